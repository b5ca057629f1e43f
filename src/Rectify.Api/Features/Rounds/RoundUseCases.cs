using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Rounds;

/// <summary>
/// What can be done with rounds, and the rules: a round is its inspected unit's (the caller's units), every change is
/// journalled, and an update checks the version read. A create runs on the transaction it is given (the idempotency
/// key's); an update opens its own.
/// </summary>
public sealed class RoundUseCases(Db db, RoundRepository rounds, Journal.JournalWriter journal, Clock clock, Caller caller)
{
    public Task<Page<RoundResponse>> ListAsync(RoundListQuery query, CancellationToken ct) => rounds.ListAsync(query, ct);

    /// <summary>One round with its version; 404 when there is none.</summary>
    public async Task<(RoundResponse Round, int Version)> GetAsync(string code, CancellationToken ct)
        => await rounds.FindAsync(code, ct) ?? throw Refuse.NotFound("round", code);

    public async Task<(RoundResponse Round, int Version)> CreateAsync(Tx tx, CreateRoundRequest request, CancellationToken ct)
    {
        await UnitScope.EnsureMayWriteAsync(tx, caller, request.InspectedUnit, "The new round's inspected unit", ct);
        var row = await rounds.InsertAsync(tx, request, clock.UtcNow, ct);
        await journal.RecordAsync(tx, "round", row.Code, "create", null, row.ToResponse(), ct);
        return (row.ToResponse(), row.Version);
    }

    public Task<(RoundResponse Round, int Version)> UpdateAsync(string code, UpdateRoundRequest request, int? expectedVersion, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            var before = Versions.Expect(await rounds.LockAsync(tx, code, token), expectedVersion, "round", code);
            // A round is its inspected unit's: a client limited to units changes only rounds of its units, and keeps them there.
            await UnitScope.EnsureMayWriteAsync(tx, caller, before.InspectedUnitCode, $"Round '{code}'", token);
            if (request.InspectedUnit != before.InspectedUnitCode)
                await UnitScope.EnsureMayWriteAsync(tx, caller, request.InspectedUnit, $"The new inspected unit of round '{code}'", token);
            var after = await rounds.UpdateAsync(tx, code, request, clock.UtcNow, token);
            await journal.RecordAsync(tx, "round", code, "update", before.ToResponse(), after.ToResponse(), token);
            return (after.ToResponse(), after.Version);
        }, ct);
}
