using System.Security.Claims;

namespace Rectify.Api.Infrastructure.Auth;

/// <summary>
/// The calling system on whose behalf a request runs: the authenticated client, as the journal, the idempotency
/// records and the values' source name it, and the units it may write for.
/// </summary>
public sealed class Caller(IHttpContextAccessor http, Microsoft.Extensions.Options.IOptions<AccessOptions> access)
{
    public const string Anonymous = "anonymous";

    ClaimsPrincipal? User => http.HttpContext?.User;

    /// <summary>Work outside a request (start-up, the command line, background jobs).</summary>
    public const string System = "system";

    public string Name => http.HttpContext is null ? System
        : User?.Identity?.IsAuthenticated == true ? User.Identity.Name ?? Anonymous : Anonymous;

    /// <summary>Whether a client is identified (false for an open endpoint called without a key).</summary>
    public bool IsAuthenticated => http.HttpContext is null || User?.Identity?.IsAuthenticated == true;

    /// <summary>The authenticated client's id, or null.</summary>
    public long? ClientId => long.TryParse(User?.FindFirst(ApiKeyAuthentication.ClientIdClaim)?.Value, out var id) ? id : null;

    /// <summary>The prefix of the key this request came with, or null.</summary>
    public string? KeyPrefix => User?.FindFirst(ApiKeyAuthentication.KeyPrefixClaim)?.Value;

    /// <summary>The units (with everything below them) this client may write for; null when it may write for every unit.</summary>
    public IReadOnlyList<string>? Units
        => User?.FindAll(ApiKeyAuthentication.UnitClaim).Select(c => c.Value).ToArray() is { Length: > 0 } units ? units : null;

    /// <summary>Whether the caller holds <paramref name="scope"/> (work outside a request holds every scope).</summary>
    public bool Holds(string scope) => http.HttpContext is null || User?.HasClaim(ApiKeyAuthentication.ScopeClaim, scope) == true;

    /// <summary>The scopes the caller holds (every scope outside a request).</summary>
    public IReadOnlyList<string> Scopes => global::Rectify.Api.Infrastructure.Auth.Scopes.All.Where(Holds).ToArray();

    /// <summary>
    /// The units whose rows this client may read: its units when reads are limited to them
    /// (Rectify:Access:ReadsLimitedToUnits) and it has any; null when it reads everything. Queries pass it as
    /// <c>@readable</c> and keep rows with <c>unit IN (SELECT units_under(@readable))</c>.
    /// </summary>
    public string[]? ReadableUnits => access.Value.ReadsLimitedToUnits && Units is { } units ? units.ToArray() : null;

    /// <summary>403 for a client whose reads are limited to units: views of a whole round mix every unit's rows.</summary>
    public void EnsureReadsEverything(string what)
    {
        if (ReadableUnits is { } units)
            throw Refuse.Forbidden($"{what} covers every unit, and this client reads only its units ({string.Join(", ", units)}).");
    }
}
