using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Rectify.Api.Features.Webhooks;

/// <summary>Name resolution and connections to the outside: the one door webhook requests go through (tests replace it).</summary>
public interface IOutboundNetwork
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct);

    Task<Stream> ConnectAsync(IPEndPoint endpoint, CancellationToken ct);
}

sealed class SystemNetwork : IOutboundNetwork
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Dns.GetHostAddressesAsync(host, ct);

    public async Task<Stream> ConnectAsync(IPEndPoint endpoint, CancellationToken ct)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A webhook target refused by the allow-list or the address rules; no connection was made.</summary>
public sealed class OutboundRefusedException(Text reason) : Exception(reason.ToString())
{
    /// <summary>Why, in words the caller's language can say.</summary>
    public Text Reason { get; } = reason;
}

/// <summary>
/// No server-side request forgery: a webhook goes only to a host on the allow-list, and only to addresses that are
/// public or explicitly allowed (loopback, private, link-local, carrier-grade NAT, multicast and cloud metadata
/// addresses are refused otherwise). The address checked is the one connected to: the handler's ConnectCallback
/// resolves the name here and connects to a checked address, so a name that resolves differently later (DNS
/// rebinding) gains nothing. Redirects are not followed (the handler says so).
/// </summary>
public sealed class OutboundGuard(IOptions<WebhookOptions> options, IOutboundNetwork network)
{
    /// <summary>The addresses <paramref name="url"/> may be reached at; <see cref="OutboundRefusedException"/> when none or the host is not
    /// allowed.</summary>
    public async Task<IPAddress[]> CheckAsync(Uri url, CancellationToken ct)
    {
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.UserInfo))
            throw new OutboundRefusedException("The URL must be an absolute http or https URL without user information.");
        return await CheckHostAsync(url.IdnHost, ct);
    }

    async Task<IPAddress[]> CheckHostAsync(string host, CancellationToken ct)
    {
        var allowedHosts = options.Value.AllowedHosts;
        if (!allowedHosts.Contains("*") && !allowedHosts.Contains(host, StringComparer.OrdinalIgnoreCase))
            throw new OutboundRefusedException($"The host '{host}' is not on the webhook allow-list (Rectify:Webhooks:AllowedHosts).");
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await network.ResolveAsync(host, ct);
        var refused = addresses.Where(a => !IsAllowed(a)).ToArray();
        // Every address the name has must pass: otherwise a name with one public and one internal address could reach the latter.
        if (addresses.Length == 0 || refused.Length > 0)
        {
            var listed = string.Join(", ", refused.Select(a => a.ToString()));
            throw new OutboundRefusedException($"The host '{host}' resolves to an address webhooks may not reach ({listed}).");
        }
        return addresses;
    }

    /// <summary>SocketsHttpHandler.ConnectCallback: the checked connection, or a refusal before any packet is sent.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var addresses = await CheckHostAsync(context.DnsEndPoint.Host, ct);
        return await network.ConnectAsync(new IPEndPoint(addresses[0], context.DnsEndPoint.Port), ct);
    }

    bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (options.Value.AllowedNetworks.Any(n => IPNetwork.Parse(n).Contains(address))) return true;
        return !IsSpecial(address);
    }

    static readonly IPNetwork[] Special =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("224.0.0.0/3"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
            IPNetwork.Parse("fec0::/10"),
        IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("64:ff9b::/96"),
    ];

    /// <summary>Loopback, private, link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254 included), shared, reserved, multicast.</summary>
    static bool IsSpecial(IPAddress address) => Special.Any(n => n.BaseAddress.AddressFamily == address.AddressFamily && n.Contains(address));
}
