using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Infrastructure.Auth;

/// <summary>
/// Authenticates a calling system by its API key, sent as <c>Authorization: Bearer …</c> or <c>X-Api-Key</c>.
/// The key's prefix finds the stored hash; the comparison is constant-time, and an unknown prefix is compared
/// against a dummy hash so that timing does not tell a valid prefix from an invalid one. A key verified in the last
/// few seconds is taken from <see cref="VerifiedKeys"/> without a database lookup (that lifetime bounds revocation).
/// </summary>
public sealed class ApiKeyAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, Db db,
    Clock clock,
    VerifiedKeys verified)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string ScopeClaim = "scope";
    public const string UnitClaim = "unit";
    public const string ClientIdClaim = "client_id";
    public const string KeyPrefixClaim = "key_prefix";

    static readonly byte[] DummyHash = SHA256.HashData("no such key"u8);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = KeyOf(Request);
        // Open endpoints (health, the OpenAPI document) never look a key up: they must answer while the database is down.
        if (key is null || Context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null) return AuthenticateResult.NoResult();

        var hash = ApiKeys.Hash(key);
        var stored = verified.Find(hash) ?? await VerifyAsync(key, hash);
        if (stored is null) return AuthenticateResult.Fail("The API key is not valid.");
        if (stored.RevokedAt is not null || stored.ClientRevokedAt is not null) return AuthenticateResult.Fail("The API key has been revoked.");
        if (stored.ExpiresAt is { } expires && expires <= clock.UtcNow) return AuthenticateResult.Fail("The API key has expired.");

        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, stored.Name), new(ClientIdClaim, stored.ClientId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(KeyPrefixClaim, stored.Prefix),
        };
        claims.AddRange(stored.Scopes.Select(s => new Claim(ScopeClaim, s)));
        claims.AddRange((stored.Units ?? []).Select(u => new Claim(UnitClaim, u)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    internal static string? KeyOf(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return authorization["Bearer ".Length..].Trim();
        var header = request.Headers[HeaderName].ToString().Trim();
        return header.Length > 0 ? header : null;
    }

    /// <summary>The key's row when the key matches its stored hash, or null; a live key is remembered.</summary>
    async Task<VerifiedKeys.StoredKey?> VerifyAsync(string key, byte[] hash)
    {
        var prefix = ApiKeys.PrefixOf(key);
        // A key created a moment ago may not have reached a standby yet: one the standby does not know is looked up on the primary.
        var stored = prefix is null ? null : await db.ReadOrAskPrimaryAsync(async (connection, token) =>
            await connection.QuerySingleOrDefaultAsync<VerifiedKeys.StoredKey>(new CommandDefinition(KeySql, new { prefix },
                cancellationToken: token)),
            found => found is null, Context.RequestAborted);
        if (!CryptographicOperations.FixedTimeEquals(hash, stored?.KeyHash ?? DummyHash)) return null;
        if (stored is { RevokedAt: null, ClientRevokedAt: null }) verified.Remember(hash, stored);
        return stored;
    }

    const string KeySql = """
        SELECT c.id AS client_id, c.name, k.prefix, c.scopes, c.units, k.key_hash, k.expires_at, k.revoked_at, c.revoked_at AS client_revoked_at
        FROM api_keys k JOIN clients c ON c.id = k.client_id
        WHERE k.prefix = @prefix
        """;
}

/// <summary>401 and 403 as problems: 401 with <c>WWW-Authenticate</c>, 403 naming the scope the key lacks.</summary>
public sealed class ProblemAuthorizationResultHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext http, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Challenged)
        {
            var failure = http.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Failure?.Message;
            http.Response.Headers.WWWAuthenticate = failure is null
                ? "Bearer realm=\"rectify\""
                : "Bearer realm=\"rectify\", error=\"invalid_token\"";
            await WriteAsync(http, StatusCodes.Status401Unauthorized, ProblemTypes.Unauthorized, "Authentication required",
                failure is null
                    ? $"Send an API key as 'Authorization: Bearer <key>' or '{ApiKeyAuthentication.HeaderName}: <key>'." : Text.Plain(failure));
            return;
        }
        if (result.Forbidden)
        {
            var missing = result.AuthorizationFailure?.FailedRequirements
                .Select(r => r switch { ScopeRequirement s => s.Scope, PublicOrScopeRequirement p => p.Scope, _ => null }).OfType<string>().ToArray()
                    ?? [];
            await WriteAsync(http, StatusCodes.Status403Forbidden, ProblemTypes.Forbidden, "Not allowed",
                missing.Length > 0
                    ? $"This key lacks the scope '{string.Join("', '", missing)}' that this operation needs." : (Text)"This key may not do this.");
            return;
        }
        await _default.HandleAsync(next, http, policy, result);
    }

    Task WriteAsync(HttpContext http, int status, string type, Text title, Text detail)
    {
        http.Response.StatusCode = status;
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
                new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Type = type, Title = http.Say(title), Detail = http.Say(detail) },
        }).AsTask();
    }
}
