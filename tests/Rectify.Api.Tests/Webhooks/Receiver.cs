using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Rectify.Api.Features.Webhooks;

namespace Rectify.Api.Tests.Webhooks;

/// <summary>One webhook request as the receiver got it.</summary>
public sealed record Received(string EventId, string Timestamp, string Signature, string Body, DateTimeOffset At)
{
    public JsonNode Json => JsonNode.Parse(Body)!;

    /// <summary>What a receiver does: HMAC-SHA256 over "timestamp.body" with the secret, compared in constant time.</summary>
    public bool SignedWith(string secret)
    {
        var expected = "sha256="
            + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{Timestamp}.{Body}")));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(Signature));
    }
}

/// <summary>
/// A webhook receiver on 127.0.0.1 that the test runs: it records every request and answers with what
/// <paramref name="answer"/> says for the n-th request (0-based): a status, and optionally headers.
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    readonly HttpListener _listener = new();
    readonly Func<int, Task<(int Status, Dictionary<string, string>? Headers)>> _answer;
    readonly ConcurrentQueue<Received> _received = new();
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;
    int _count;

    public Receiver(Func<int, Task<(int Status, Dictionary<string, string>? Headers)>> answer)
    {
        _answer = answer;
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public static Receiver Always(int status) => new(_ => Task.FromResult<(int, Dictionary<string, string>?)>((status, null)));

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hook";

    public IReadOnlyList<Received> Requests => [.. _received];

    /// <summary>The de-duplicated view: each event id once.</summary>
    public IReadOnlySet<string> EventIds => _received.Select(r => r.EventId).ToHashSet();

    public async Task<IReadOnlyList<Received>> WaitForAsync(int count, TimeSpan? within = null)
    {
        var until = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (_received.Count < count)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"The receiver got {_received.Count} requests, expected {count}.");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        return Requests;
    }

    async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested || !_listener.IsListening)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var n = Interlocked.Increment(ref _count) - 1;
            _received.Enqueue(new Received(context.Request.Headers[WebhookDispatcher.IdHeader] ?? "",
                context.Request.Headers[WebhookDispatcher.TimestampHeader] ?? "",
                context.Request.Headers[WebhookDispatcher.SignatureHeader] ?? "", body, DateTimeOffset.UtcNow));
            var (status, headers) = await _answer(n);
            context.Response.StatusCode = status;
            foreach (var (name, value) in headers ?? []) context.Response.Headers[name] = value;
            context.Response.Close();
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (HttpListenerException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception)
        {
        }
        _stop.Dispose();
    }
}

/// <summary>
/// The only network the service gets in these tests: loopback connections go through, anything else is recorded and
/// refused here, so that a broken guard fails a test instead of reaching out. No name is resolved but localhost.
/// </summary>
public sealed class RecordingNetwork : IOutboundNetwork
{
    readonly ConcurrentQueue<string> _outside = new();
    readonly ConcurrentQueue<IPEndPoint> _connects = new();

    /// <summary>Every attempt to resolve or reach something outside 127.0.0.0/8 that got past the guard.</summary>
    public IReadOnlyList<string> Outside => [.. _outside];

    public IReadOnlyList<IPEndPoint> Connects => [.. _connects];

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        if (host == "localhost") return Task.FromResult(new[] { IPAddress.Loopback });
        _outside.Enqueue("resolve " + host);
        throw new SocketException((int)SocketError.HostNotFound);
    }

    public async Task<Stream> ConnectAsync(IPEndPoint endpoint, CancellationToken ct)
    {
        _connects.Enqueue(endpoint);
        if (!IPAddress.IsLoopback(endpoint.Address) || endpoint.AddressFamily != AddressFamily.InterNetwork)
        {
            _outside.Enqueue("connect " + endpoint);
            throw new SocketException((int)SocketError.AccessDenied);
        }
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint, ct);
        return new NetworkStream(socket, ownsSocket: true);
    }
}
