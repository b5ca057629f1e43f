namespace Rectify.Api.Infrastructure;

/// <summary>Shares as the API gives them: completion rates, reporting completeness.</summary>
public static class Percent
{
    /// <summary><paramref name="part"/> / <paramref name="whole"/> in percent, two decimals rounded half away from zero as PostgreSQL's round() does;
    /// null for an empty whole.</summary>
    public static decimal? Of(int part, int whole)
        => whole <= 0 ? null : Math.Round(part * 100m / whole, 2, MidpointRounding.AwayFromZero);
}
