using System.Collections.Concurrent;
using System.Collections.ObjectModel;
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Telemetry;

/// <summary>
/// The service with tracing on, its spans kept in memory, its log lines (with their scopes) captured, and a small push
/// limit so that a second client can run into it.
/// </summary>
public sealed class TelemetryApp(TestCluster cluster) : RectifyApp(cluster)
{
    public const int PushesPerMinute = 10;

    public SpanList Spans { get; } = [];

    public ConcurrentQueue<string> Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rectify:Telemetry:Traces", "true");
        builder.UseSetting("Rectify:Access:PushesPerMinute", PushesPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Logging:LogLevel:Default", "Information");
        builder.ConfigureTestServices(services =>
        {
            services.ConfigureOpenTelemetryTracerProvider(traces => traces.AddInMemoryExporter(Spans));
            services.AddLogging(logging => logging.AddProvider(new CapturingProvider(Logs)));
        });
    }

    /// <summary>Spans as the exporter hands them over, safe to read while requests still end.</summary>
    public sealed class SpanList : Collection<Activity>
    {
        readonly Lock _lock = new();

        protected override void InsertItem(int index, Activity item)
        {
            lock (_lock) base.InsertItem(index, item);
        }

        public Activity[] Of(ActivityTraceId trace)
        {
            lock (_lock) return [.. this.Where(span => span.TraceId == trace)];
        }
    }

    /// <summary>Each line as its message and every scope value (the trace id among them), as a JSON formatter would write them.</summary>
    sealed class CapturingProvider(ConcurrentQueue<string> lines) : ILoggerProvider, ISupportExternalScope
    {
        IExternalScopeProvider? _scopes;

        ConcurrentQueue<string> Lines => lines;

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose() { }

        sealed class Logger(CapturingProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?,
                string> formatter)
            {
                var scopes = new List<string>();
                provider._scopes?.ForEachScope((scope, list) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs) list.AddRange(pairs.Select(p => $"{p.Key}={p.Value}"));
                    else list.Add(scope?.ToString() ?? "");
                }, scopes);
                provider.Lines.Enqueue($"{category} | {formatter(state, exception)} | {string.Join(" ", scopes)} | {exception}");
            }
        }
    }
}
