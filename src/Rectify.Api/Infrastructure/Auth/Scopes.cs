using Microsoft.AspNetCore.Authorization;

namespace Rectify.Api.Infrastructure.Auth;

/// <summary>What a client may do, as requests and answers name it (see <see cref="Scopes"/>).</summary>
public enum ClientScope { Read, Write, Push, Review, Admin }

/// <summary>What a client may do. Every endpoint declares the one scope it needs.</summary>
public static class Scopes
{
    /// <summary>Read rounds, issues, measures, indicators, values, the journal.</summary>
    public const string Read = "read";
    /// <summary>Create and change rounds, issues, measures, indicators; report progress and evidence.</summary>
    public const string Write = "write";
    /// <summary>Push data values (and month-end snapshots).</summary>
    public const string Push = "push";
    /// <summary>Review and close issues (销号), publish snapshots.</summary>
    public const string Review = "review";
    /// <summary>Manage clients and keys.</summary>
    public const string Admin = "admin";

    public static readonly string[] All = [.. Enum.GetValues<ClientScope>().Select(EnumText.Format)];

    /// <summary>Requires <paramref name="scope"/> of the caller's key (401 without a valid key, 403 naming the scope).</summary>
    public static RouteHandlerBuilder RequireScope(this RouteHandlerBuilder builder, string scope)
        => builder.Requiring(PolicyName(scope), scope);

    /// <summary>
    /// Like <see cref="RequireScope"/>, but open without a key when public read is configured (Rectify:Access:PublicRead):
    /// for what a public disclosure site shows. The handler then serves published content only.
    /// </summary>
    public static RouteHandlerBuilder RequireScopeOrPublicRead(this RouteHandlerBuilder builder, string scope)
        => builder.Requiring(PublicPolicyName(scope), scope);

    static RouteHandlerBuilder Requiring(this RouteHandlerBuilder builder, string policy, string scope)
        => builder.RequireAuthorization(policy).WithMetadata(new RequiredScope(scope))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    public static string PolicyName(string scope) => $"scope:{scope}";

    static string PublicPolicyName(string scope) => $"scope-or-public:{scope}";

    public static void AddPolicies(AuthorizationOptions options)
    {
        foreach (var scope in All)
        {
            options.AddPolicy(PolicyName(scope), policy => policy.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scope)));
        }
        options.AddPolicy(PublicPolicyName(Read), policy => policy.AddRequirements(new PublicOrScopeRequirement(Read)));
    }
}

/// <summary>Endpoint metadata: the scope an operation needs (read by the OpenAPI document).</summary>
public sealed record RequiredScope(string Scope);

/// <summary>Met by a key with the scope, or by a request without a key when public read is on.</summary>
public sealed record PublicOrScopeRequirement(string Scope) : IAuthorizationRequirement;

/// <summary>The scope an endpoint needs; met by a key whose client holds it.</summary>
public sealed record ScopeRequirement(string Scope) : IAuthorizationRequirement;
