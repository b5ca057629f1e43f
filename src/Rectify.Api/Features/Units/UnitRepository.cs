using Dapper;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Units;

public sealed class UnitRepository(Db db)
{
    /// <summary>A page of units under <c>query.Parent</c>, of <paramref name="kind"/> (its API name) when given.</summary>
    public Task<Page<UnitResponse>> ListAsync(UnitListQuery query, string? kind, CancellationToken ct)
    {
        var args = new { parent = query.Parent, kind, after = query.AfterKey, limit = query.EffectiveLimit + 1 };
        return db.PageAsync(ListSql, args, query, (UnitRow r) => (object)r.Code, r => r.ToResponse(), ct);
    }

    public Task<UnitResponse?> FindAsync(string code, CancellationToken ct)
        => db.ReadAsync(async (connection, token) =>
            (await connection.QuerySingleOrDefaultAsync<UnitRow>(new CommandDefinition(FindSql, new { code },
                cancellationToken: token)))?.ToResponse(), ct);

    const string Columns = "code, name, name_en, kind, parent_code";

    const string ListSql = $"""
        SELECT {Columns}
        FROM units
        WHERE (@parent::text IS NULL OR parent_code = @parent)
          AND (@kind::text IS NULL OR kind = @kind)
          AND code > @after
        ORDER BY code
        LIMIT @limit
        """;

    const string FindSql = $"SELECT {Columns} FROM units WHERE code = @code";
}
