using System.Security.Claims;

namespace Rectify.Api.Infrastructure.Auth;

/// <summary>
/// The calling system on whose behalf a request runs: the authenticated client, as the journal, the idempotency
/// records and the values' source name it, and the units it may write for. Outside a request nobody is
/// authenticated: work of the service itself (start-up, the command line, background jobs) acts as
/// <see cref="System"/> only in a scope made for it (<see cref="SystemScope"/>), never merely because there is no request.
/// </summary>
public sealed class Caller(IHttpContextAccessor http, Microsoft.Extensions.Options.IOptions<AccessOptions> access)
{
    public const string Anonymous = "anonymous";

    /// <summary>The service's own work (start-up, the command line, background jobs), in a <see cref="SystemScope"/>.</summary>
    public const string System = "system";

    bool _isSystem;

    ClaimsPrincipal? User => _isSystem ? null : http.HttpContext?.User;

    bool IsClient => User?.Identity?.IsAuthenticated == true;

    /// <summary>
    /// Makes this caller the service itself, with every scope and every unit. For scopes created outside a request
    /// only (see <see cref="SystemScope"/>): refused inside one, where the client is the caller.
    /// </summary>
    internal void ActAsSystem()
    {
        if (http.HttpContext is not null) throw new InvalidOperationException("A request's caller is its client; the system acts only outside " +
            "requests.");
        _isSystem = true;
    }

    public string Name => _isSystem ? System : IsClient ? User!.Identity!.Name ?? Anonymous : Anonymous;

    /// <summary>Whether a client (or the service itself) is identified: false for an open endpoint called without a key, and outside a
    /// request.</summary>
    public bool IsAuthenticated => _isSystem || IsClient;

    /// <summary>The authenticated client's id, or null.</summary>
    public long? ClientId => long.TryParse(User?.FindFirst(ApiKeyAuthentication.ClientIdClaim)?.Value, out var id) ? id : null;

    /// <summary>The prefix of the key this request came with, or null.</summary>
    public string? KeyPrefix => User?.FindFirst(ApiKeyAuthentication.KeyPrefixClaim)?.Value;

    /// <summary>The units (with everything below them) this client may write for; null when it may write for every unit.</summary>
    public IReadOnlyList<string>? Units
        => User?.FindAll(ApiKeyAuthentication.UnitClaim).Select(c => c.Value).ToArray() is { Length: > 0 } units ? units : null;

    /// <summary>Whether the caller holds <paramref name="scope"/> (the system holds every scope; nobody outside a request holds any).</summary>
    public bool Holds(string scope) => _isSystem || User?.HasClaim(ApiKeyAuthentication.ScopeClaim, scope) == true;

    /// <summary>The scopes the caller holds (every scope for the system).</summary>
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

/// <summary>Service scopes for the service's own work, whose <see cref="Caller"/> is <see cref="Caller.System"/>.</summary>
public static class SystemScope
{
    /// <summary>A scope outside any request in which the service acts as itself (every scope, every unit, journalled as "system").</summary>
    public static AsyncServiceScope CreateSystemScope(this IServiceScopeFactory scopes)
    {
        var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<Caller>().ActAsSystem();
        // Disposed with the scope, it makes this node forget its kept answers: what the work wrote is read back at once.
        _ = scope.ServiceProvider.GetService<Database.SystemWorkEnd>();
        return scope;
    }

    /// <inheritdoc cref="CreateSystemScope(IServiceScopeFactory)"/>
    public static AsyncServiceScope CreateSystemScope(this IServiceProvider services)
        => services.GetRequiredService<IServiceScopeFactory>().CreateSystemScope();
}
