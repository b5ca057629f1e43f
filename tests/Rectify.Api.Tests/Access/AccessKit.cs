using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Access;

static class AccessKit
{
    /// <summary>A client of <paramref name="app"/> that sends <paramref name="key"/> (or no key at all).</summary>
    public static HttpClient ClientWith(this RectifyApp app, string? key, bool asHeader = false)
    {
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = null;
        if (key is null) return client;
        if (asHeader) client.DefaultRequestHeaders.Add("X-Api-Key", key);
        else client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}

/// <summary>The service with small rate limits in a short window, and every log line kept for inspection.</summary>
public sealed class LimitedApp(TestCluster cluster) : RectifyApp(cluster)
{
    public ConcurrentQueue<string> Log { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rectify:Access:RequestsPerMinute", "5");
        builder.UseSetting("Rectify:Access:PushesPerMinute", "2");
        builder.UseSetting("Rectify:Access:RateLimitWindow", "00:00:02");
        builder.UseSetting("Logging:LogLevel:Default", "Debug");
        builder.ConfigureServices(services => services.AddLogging(logging => logging.AddProvider(new CapturingLoggerProvider(Log))));
    }

    sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, lines);

        public void Dispose() { }
    }

    sealed class CapturingLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => lines.Enqueue($"{category} {formatter(state, exception)} {exception}");
    }
}
