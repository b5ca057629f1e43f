using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Units;

/// <summary>Reading units: the listed kind is one the API names; a unit that is not there is a refusal.</summary>
public sealed class UnitUseCases(UnitRepository units)
{
    public Task<Page<UnitResponse>> ListAsync(UnitListQuery query, CancellationToken ct)
        => units.ListAsync(query, QueryEnums.Checked<UnitKind>(query.Kind, "kind"), ct);

    public async Task<UnitResponse> GetAsync(string code, CancellationToken ct)
        => await units.FindAsync(code, ct) ?? throw Refuse.NotFound("unit", code);
}
