namespace Rectify.Api.Features.Rounds;

/// <summary>
/// The region whose figures belong to a round: the top-most region (province, city, district, county) at or above
/// the inspected unit. A department sits under the province it serves, and its figures are reported province-wide.
/// </summary>
public static class RoundRegion
{
    /// <summary>
    /// Common table expressions <c>up</c> and <c>region</c> (code, name; no row without a region) for the round
    /// <c>@round</c>, for a <c>WITH RECURSIVE</c>. The depth bound stops a cycle in the unit tree.
    /// </summary>
    public const string Ctes = """
        up AS (
            SELECT u.code, u.name, u.kind, u.parent_code, 0 AS depth
            FROM units u JOIN rounds r ON r.inspected_unit_code = u.code
            WHERE r.code = @round
            UNION ALL
            SELECT p.code, p.name, p.kind, p.parent_code, up.depth + 1
            FROM units p JOIN up ON p.code = up.parent_code
            WHERE up.depth < 32
        ),
        region AS (
            SELECT code, name FROM up
            WHERE kind IN ('province', 'city', 'district', 'county')
            ORDER BY depth DESC
            LIMIT 1
        )
        """;
}
