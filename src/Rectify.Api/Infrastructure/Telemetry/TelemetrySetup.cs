using Microsoft.Extensions.Logging.Console;
using Npgsql;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Infrastructure.Telemetry;

public sealed class TelemetryOptions
{
    public const string Section = "Rectify:Telemetry";

    /// <summary>
    /// Whether requests are traced (ASP.NET Core, HttpClient and Npgsql spans). Null (the default): when
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set, since spans nobody exports only cost time on every request and query.
    /// </summary>
    public bool? Traces { get; set; }

    /// <summary><c>json</c>: one JSON object per log line (with the trace id and request scope); <c>simple</c> (the default): .NET's text
    /// lines.</summary>
    public string LogFormat { get; set; } = "simple";

    /// <summary>Whether <c>GET /metrics</c> (Prometheus text, admin key) is served.</summary>
    public bool PrometheusEndpoint { get; set; } = true;
}

/// <summary>
/// OpenTelemetry for the service: metrics always (the <c>Rectify</c> and <c>Rectify.Database</c> meters, ASP.NET Core,
/// HttpClient, Npgsql and the .NET runtime), scraped as Prometheus text at <c>/metrics</c> with an admin key; traces
/// when enabled; both (and the logs) exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, configured by
/// the standard <c>OTEL_*</c> variables (service name, headers, protocol). Logs carry the trace id (and span id) that
/// problems return as <c>traceId</c>.
/// </summary>
public static class TelemetrySetup
{
    public const string MetricsPath = "/metrics";
    const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static WebApplicationBuilder AddRectifyTelemetry(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]);
        builder.Services.Configure<TelemetryOptions>(builder.Configuration.GetSection(TelemetryOptions.Section));
        builder.Services.AddSingleton<RectifyMetrics>();

        // Every log line in a request carries its TraceId and SpanId as scope; the JSON formatter writes them out.
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (string.Equals(options.LogFormat, "json", StringComparison.OrdinalIgnoreCase))
            builder.Logging.AddJsonConsole(json =>
            {
                json.IncludeScopes = true;
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        if (otlp) builder.Logging.AddOpenTelemetry(logs => logs.AddOtlpExporter());

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("rectify-api", serviceInstanceId: Environment.MachineName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(RectifyMetrics.MeterName, DatabaseMetrics.MeterName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation();
                if (options.PrometheusEndpoint) metrics.AddPrometheusExporter();
                if (otlp) metrics.AddOtlpExporter();
            });
        if (options.Traces ?? otlp)
            telemetry.WithTracing(traces =>
            {
                traces.AddAspNetCoreInstrumentation(asp => asp.Filter = http => !http.Request.Path.StartsWithSegments("/health")
                    && !http.Request.Path.StartsWithSegments(MetricsPath))
                    .AddHttpClientInstrumentation()
                    .AddNpgsql();
                if (otlp) traces.AddOtlpExporter();
            });
        return builder;
    }

    /// <summary>
    /// <c>GET /metrics</c> on the API's own port, for a key with the admin scope. Admin rather than a second port: one
    /// listener behind one proxy, no extra port to bind, firewall and keep off the internet in every deployment, and
    /// the same keys and audit as the rest of the API (Prometheus sends it with <c>authorization.credentials_file</c>).
    /// The metrics name clients, so they are not public.
    /// </summary>
    public static WebApplication MapRectifyTelemetry(this WebApplication app)
    {
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetryOptions>>().Value.PrometheusEndpoint)
            app.MapPrometheusScrapingEndpoint(MetricsPath)
                .RequireAuthorization(Scopes.PolicyName(Scopes.Admin))
                .WithMetadata(new RequiredScope(Scopes.Admin))
                .DisableRateLimiting();
        app.Use(async (http, next) =>
        {
            await next(http);
            // Publishing is counted from its endpoint's answer, so that the snapshot code carries no telemetry.
            if (http.Response.StatusCode == StatusCodes.Status200OK
                && http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == "PublishSnapshot")
                http.RequestServices.GetRequiredService<RectifyMetrics>().Published();
        });
        return app;
    }
}
