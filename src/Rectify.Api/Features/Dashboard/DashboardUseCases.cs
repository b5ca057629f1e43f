using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Dashboard;

/// <summary>A round's dashboard: for callers that read every unit, as of today in the configured time zone.</summary>
public sealed class DashboardUseCases(DashboardRepository dashboards, Clock clock, Caller caller, ReadCache cache)
{
    /// <summary>The dashboard as JSON (kept by the read cache).</summary>
    public async Task<KeptJson> GetAsync(string round, CancellationToken ct)
    {
        caller.EnsureReadsEverything("A round's dashboard");
        return await cache.GetOrReadJsonAsync<DashboardResponse>(new ReadCacheKey("dashboard", round, (string?)null, clock.Today),
                async token => await dashboards.ReadAsync(round, clock.Today, clock.DueSoonUntil, token) is { } dashboard ? (dashboard, null) : null,
                ct)
            ?? throw Refuse.NotFound("round", round);
    }
}
