using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.DataValues;

/// <summary>
/// Reads of values, limited to the units the caller may read. Writes are pushes: <see cref="DataValueImport"/>, and the
/// snapshot push, both through <see cref="DataValueMerge"/>.
/// </summary>
public sealed class DataValueUseCases(DataValueRepository values, Caller caller)
{
    public Task<Page<DataValueResponse>> ListAsync(DataValueListQuery query, CancellationToken ct)
        => values.ListAsync(query, caller.ReadableUnits, ct);

    /// <summary>Every value the filters select, as CSV, written to <paramref name="output"/> as it is read.</summary>
    public IResult Export(DataValueListQuery query, CancellationToken ct) => values.Export(query, caller.ReadableUnits, ct);

    public Task<Page<DataValueDeletionResponse>> DeletionsAsync(DeletionListQuery query, CancellationToken ct)
        => values.DeletionsAsync(query, caller.ReadableUnits, ct);
}
