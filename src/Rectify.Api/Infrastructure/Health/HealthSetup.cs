using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Polly.CircuitBreaker;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Infrastructure.Health;

/// <summary>The overall status and each check's (healthy, degraded, unhealthy).</summary>
public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, string> Checks);

/// <summary>
/// <c>/health/live</c>: the process is up. <c>/health/ready</c>: the database answers, the migrations are applied and
/// the circuit is not refusing requests. Both are unauthenticated for load balancers and orchestrators, and name only
/// the checks and their status — no connection details or exception text.
/// </summary>
public static class HealthSetup
{
    const string ReadyTag = "ready";
    const string ReplicasCheckName = "replicas";

    public static IServiceCollection AddRectifyHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddNpgSql(sp => sp.GetRequiredService<NpgsqlDataSource>(), name: "database", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<MigrationsCheck>("migrations", tags: [ReadyTag])
            .AddCheck<CircuitCheck>("circuit", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<ReplicasCheck>(ReplicasCheckName, tags: [ReadyTag]);
        // With standbys, a primary that does not answer leaves the service serving reads: degraded, still ready.
        services.AddOptions<HealthCheckServiceOptions>().Configure<DatabaseTopology>((options, topology) =>
        {
            foreach (var check in options.Registrations.Where(r => r.Name == "database"))
                check.FailureStatus = topology.HasStandbys ? HealthStatus.Degraded : HealthStatus.Unhealthy;
        });
        return services;
    }

    public static WebApplication MapRectifyHealth(this WebApplication app)
    {
        var group = app.MapGroup("/health").WithTags("Health").AllowAnonymous().DisableRateLimiting();
        group.MapGet("/live", () => TypedResults.Ok(new HealthResponse("healthy", new Dictionary<string, string>())))
            .WithName("Live").WithSummary("Liveness")
            .WithDescription("200 while the process runs. Unauthenticated, for load balancers and orchestrators.")
            .WithExample(response: new HealthResponse("healthy", new Dictionary<string, string>()));
        group.MapGet("/ready", Ready)
            .WithName("Ready").WithSummary("Readiness")
            .WithDescription("200 when the database answers, the migrations are applied and the database circuit is not refusing requests " +
                "(once an open circuit's break is over, the probe itself tries the database through it and closes it; degraded while another " +
                "caller's trial is still in flight); 503 (same body) otherwise. Unauthenticated; names the checks, never " +
                "connection details or errors. With standbys configured (a multi-host connection string) a `replicas` check is added: degraded " +
                "when no standby answers (reads fall back to the primary), and a primary that does not answer is degraded, not unhealthy (standbys " +
                "still serve reads); each host with its role and replay lag is at GET /health/replicas (admin).")
            .Produces<HealthResponse>(StatusCodes.Status200OK)
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable)
            .WithExample(response: new HealthResponse("healthy", new Dictionary<string,
                string> { ["database"] = "healthy", ["migrations"] = "healthy", ["circuit"] = "healthy" }));
        // The readiness details, for operators: not under the anonymous group, since they name the database hosts.
        app.MapGet("/health/replicas", async (ReplicaMonitor replicas, CancellationToken ct) => TypedResults.Ok(await replicas.CheckAsync(ct)))
            .WithTags("Health").WithName("Replicas").WithSummary("Database hosts and replica lag")
            .WithDescription("Each host of a multi-host connection string, looked at now: its role (primary, standby or unreachable) and, for a " +
                "standby, its replay lag in seconds and in bytes of WAL behind the primary. Empty with one database host. The same lag is the " +
                "metric rectify.replica.lag.")
            .RequireScope(Auth.Scopes.Admin)
            .DisableRateLimiting()
            .WithExample(response: new[] { new ReplicaStatus("db-standby:5432", "standby", 0.4, 8192,
                new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc)) });
        return app;
    }

    static async Task<IResult> Ready(HealthCheckService health, DatabaseTopology topology, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(c => c.Tags.Contains(ReadyTag) && (c.Name != ReplicasCheckName || topology.HasStandbys), ct);
        var body = new HealthResponse(Text(report.Status), report.Entries.ToDictionary(e => e.Key, e => Text(e.Value.Status)));
        // Degraded is ready: a trial in flight decides within moments, and callers beside it wait for its outcome.
        return report.Status == HealthStatus.Unhealthy
            ? TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable) : TypedResults.Ok(body);
    }

    static string Text(HealthStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>Refuses API requests with a 503 problem until the database is migrated (it may be unreachable at start-up).</summary>
    public static WebApplication UseReadinessGate(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (http.Request.Path.StartsWithSegments("/api") && !http.RequestServices.GetRequiredService<DatabaseReadiness>().IsReady)
                throw new ProblemException(StatusCodes.Status503ServiceUnavailable, ProblemTypes.DatabaseUnavailable, "The service is starting",
                    "The database is not reachable or not yet migrated. Retry after the time given in Retry-After.");
            await next(http);
        });
        return app;
    }

    sealed class MigrationsCheck(DatabaseReadiness readiness) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
            => Task.FromResult(readiness.IsReady ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy());
    }

    /// <summary>
    /// Unhealthy while the circuit refuses work. Once its break is over the probe itself is the circuit's trial (no traffic
    /// needed, none refused because a trial is in flight): healthy when it closed the circuit, unhealthy when the database
    /// is still gone (the break starts again), degraded only while another caller's trial has not ended after a wait.
    /// </summary>
    sealed class CircuitCheck(Db db) : IHealthCheck
    {
        // With standbys, reads have a circuit of their own: a primary's open circuit refuses writes only (degraded).
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            await db.TryCircuitsAsync(cancellationToken);
            return db.ReadsRefusing ? HealthCheckResult.Unhealthy()
                : db.CircuitRefusing ? (db.HasStandbys ? HealthCheckResult.Degraded() : HealthCheckResult.Unhealthy())
                : db.CircuitState == CircuitState.Closed ? HealthCheckResult.Healthy()
                : HealthCheckResult.Degraded();
        }
    }

    /// <summary>
    /// With standbys configured: each host looked at now. Healthy while a standby answers; degraded when only the primary
    /// does (reads fall back to it); unhealthy when no host answers.
    /// </summary>
    sealed class ReplicasCheck(ReplicaMonitor monitor, DatabaseTopology topology) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!topology.HasStandbys) return HealthCheckResult.Healthy();
            var hosts = await monitor.CheckAsync(cancellationToken);
            return hosts.Any(h => h.Role == "standby") ? HealthCheckResult.Healthy()
                : hosts.Any(h => h.Role == "primary") ? HealthCheckResult.Degraded()
                : HealthCheckResult.Unhealthy();
        }
    }
}
