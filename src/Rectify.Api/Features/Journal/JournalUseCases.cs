using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Journal;

/// <summary>Reading the journal: it covers every unit, so a client whose reads are limited to units may not read it.</summary>
public sealed class JournalUseCases(JournalRepository journal, Caller caller)
{
    public Task<Page<JournalEntryResponse>> ListAsync(JournalQuery query, CancellationToken ct)
    {
        caller.EnsureReadsEverything("The journal");
        return journal.ListAsync(query, QueryEnums.Checked<JournalEntity>(query.Entity, "entity"), ct);
    }
}
