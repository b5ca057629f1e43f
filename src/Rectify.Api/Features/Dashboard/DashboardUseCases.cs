using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Dashboard;

/// <summary>A round's dashboard: for callers that read every unit, as of today in the configured time zone.</summary>
public sealed class DashboardUseCases(DashboardRepository dashboards, Clock clock, Caller caller, ReadCache cache)
{
    public async Task<DashboardResponse> GetAsync(string round, CancellationToken ct)
    {
        caller.EnsureReadsEverything("A round's dashboard");
        return await cache.GetOrReadAsync(new ReadCacheKey("dashboard", round, (string?)null, clock.Today),
                token => dashboards.ReadAsync(round, clock.Today, clock.DueSoonUntil, token), ct)
            ?? throw Refuse.NotFound("round", round);
    }
}
