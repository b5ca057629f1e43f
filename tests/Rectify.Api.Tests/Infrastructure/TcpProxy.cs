using System.Net;
using System.Net.Sockets;

namespace Rectify.Api.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of a database server that a test switches between refusing (every connection is
/// reset at once, as when nothing listens or the server is down) and forwarding. Switching to refusing also cuts
/// the connections already forwarded, as a server crash or a network partition would.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly int _targetPort;
    readonly CancellationTokenSource _stop = new();
    readonly Lock _gate = new();
    readonly List<TcpClient> _open = [];
    readonly Task _accepting;
    volatile bool _forwarding;
    int _attempts;

    public TcpProxy(int targetPort, bool forwarding)
    {
        _targetPort = targetPort;
        _forwarding = forwarding;
        _listener.Start();
        _accepting = Task.Run(() => AcceptAsync(_stop.Token));
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far (refused ones included): shows that the service kept trying.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    public void Forward() => _forwarding = true;

    /// <summary>Refuses new connections and cuts every forwarded one.</summary>
    public void Refuse()
    {
        _forwarding = false;
        List<TcpClient> open;
        lock (_gate)
        {
            open = [.. _open];
            _open.Clear();
        }
        foreach (var client in open) Reset(client);
    }

    async Task AcceptAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            Interlocked.Increment(ref _attempts);
            if (!_forwarding)
            {
                Reset(client);
                continue;
            }
            _ = Task.Run(() => ForwardAsync(client, ct), CancellationToken.None);
        }
    }

    async Task ForwardAsync(TcpClient client, CancellationToken ct)
    {
        var server = new TcpClient();
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, ct);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Reset(client);
            server.Dispose();
            return;
        }
        lock (_gate)
        {
            _open.Add(client);
            _open.Add(server);
        }
        var clientStream = client.GetStream();
        var serverStream = server.GetStream();
        // When either direction ends, both sockets are closed, so the other copy ends too.
        await Task.WhenAny(PumpAsync(clientStream, serverStream, ct), PumpAsync(serverStream, clientStream, ct));
        lock (_gate)
        {
            _open.Remove(client);
            _open.Remove(server);
        }
        Reset(client);
        Reset(server);
    }

    static async Task PumpAsync(Stream from, Stream to, CancellationToken ct)
    {
        try
        {
            await from.CopyToAsync(to, ct);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
        }
    }

    /// <summary>Closes with RST rather than FIN: the peer sees the connection fail, not end.</summary>
    static void Reset(TcpClient client)
    {
        // A connection that ended meanwhile has no socket left (TcpClient.Client is null once disposed); a socket disposed
        // between this check and the setting throws ObjectDisposedException.
        if (client.Client is { } socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
        client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Refuse();
        _stop.Dispose();
    }
}
