using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Infrastructure.Auth;

public sealed class AccessOptions
{
    public const string Section = "Rectify:Access";

    /// <summary>Requests per minute per client for reads and other writes.</summary>
    public int RequestsPerMinute { get; set; } = 600;

    /// <summary>Pushes (data-value imports) per minute per client: they are heavy.</summary>
    public int PushesPerMinute { get; set; } = 20;

    /// <summary>The window the two limits count in (a minute; shorter in tests).</summary>
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Origins allowed to call from a browser (CORS); none by default.</summary>
    public string[] CorsOrigins { get; set; } = [];

    /// <summary>Whether Swagger UI and the OpenAPI document are served outside Development.</summary>
    public bool ServeApiDocs { get; set; } = true;

    /// <summary>
    /// Public read for a disclosure site: published snapshots and the progress report can be read without a key
    /// (only what is published). Off by default.
    /// </summary>
    public bool PublicRead { get; set; }

    /// <summary>
    /// Whether a client limited to units (for writing) also reads only their rows: measures they own, issues they
    /// lead or own a measure of, values of their units. Off by default: the systems of one administration share
    /// this data, and a unit-limited client reads everything.
    /// </summary>
    public bool ReadsLimitedToUnits { get; set; }

    /// <summary>
    /// How long a node trusts a key it verified against the database (see <see cref="VerifiedKeys"/>): the bound within
    /// which a revocation made elsewhere reaches every node. Zero looks every request's key up.
    /// </summary>
    public TimeSpan VerifiedKeyLifetime { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Authentication by API key, one scope per endpoint, per-client rate limits (429 problems with Retry-After),
/// closed CORS unless origins are configured, and headers suitable for an API.
/// </summary>
public static class AccessSetup
{
    const string CorsPolicy = "configured-origins";

    public static IServiceCollection AddRectifyAccess(this IServiceCollection services, IConfiguration configuration)
    {
        var access = configuration.GetSection(AccessOptions.Section).Get<AccessOptions>() ?? new AccessOptions();
        services.Configure<AccessOptions>(configuration.GetSection(AccessOptions.Section));
        services.AddHttpContextAccessor();
        services.AddScoped<Caller>();
        services.AddSingleton<VerifiedKeys>();
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorization(options =>
        {
            Scopes.AddPolicies(options);
            // An endpoint that forgot to declare its scope is closed, not open.
            options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        });
        services.AddSingleton<IAuthorizationHandler, ScopeHandler>();
        services.AddSingleton<IAuthorizationHandler, PublicReadHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var push = IsPush(http.Request);
                var client = http.User.Identity?.IsAuthenticated == true ? http.User.Identity.Name! : "ip:" + http.Connection.RemoteIpAddress;
                var perMinute = push ? access.PushesPerMinute : access.RequestsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter($"{(push ? "push" : "request")}:{client}", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = perMinute, Window = access.RateLimitWindow, QueueLimit = 0,
                });
            });
            options.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? (int)Math.Ceiling(wait.TotalSeconds) : 60;
                context.HttpContext.RequestServices.GetRequiredService<Telemetry.RectifyMetrics>()
                    .RateLimited(context.HttpContext.User.Identity?.Name ?? "anonymous", IsPush(context.HttpContext.Request) ? "push" : "request");
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests, Type = ProblemTypes.TooManyRequests,
                        Title = context.HttpContext.Say("Too many requests"),
                        Detail = context.HttpContext.Say($"This client's rate limit is used up. Retry after {retryAfter} seconds."),
                    },
                });
            };
        });
        services.AddCors(options =>
        {
            if (access.CorsOrigins.Length > 0)
                options.AddPolicy(CorsPolicy, policy => policy.WithOrigins(access.CorsOrigins).AllowAnyMethod()
                    .WithHeaders("Authorization", ApiKeyAuthentication.HeaderName, "Content-Type", "If-Match", "If-None-Match",
                        Http.IdempotentCreates.Header)
                    .WithExposedHeaders("ETag", "Location", "Retry-After", "WWW-Authenticate", Http.IdempotentCreates.ReplayedHeader));
        });
        return services;
    }

    public static WebApplication UseRectifyAccess(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            // An API answers data, never pages to frame or scripts to run; and what it answers is not to be cached by intermediaries.
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            if (!http.Request.Path.StartsWithSegments("/swagger")) headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
            if (!headers.ContainsKey("Cache-Control")) headers.CacheControl = "no-store";
            await next(http);
        });
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AccessOptions>>()
            .Value.CorsOrigins.Length > 0) app.UseCors(CorsPolicy);
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    /// <summary>Pushes (data-value imports and month-end snapshot pushes) count against their own, smaller limit.</summary>
    static bool IsPush(HttpRequest request)
        => request.Path.StartsWithSegments("/api/v1/data-values/import")
           || (HttpMethods.IsPut(request.Method) && request.Path.StartsWithSegments("/api/v1/rounds")
               && request.Path.Value!.Contains("/snapshots/", StringComparison.Ordinal));

    sealed class ScopeHandler : AuthorizationHandler<ScopeRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
        {
            if (context.User.HasClaim(ApiKeyAuthentication.ScopeClaim, requirement.Scope)) context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// A key with the scope, or — when public read is on — no key at all. A key that is sent must be valid: a bad
    /// key is still a 401, so that a misconfigured system learns of it instead of silently reading the public view.
    /// </summary>
    sealed class PublicReadHandler(Microsoft.Extensions.Options.IOptionsMonitor<AccessOptions> options)
        : AuthorizationHandler<PublicOrScopeRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PublicOrScopeRequirement requirement)
        {
            if (context.User.HasClaim(ApiKeyAuthentication.ScopeClaim, requirement.Scope)) context.Succeed(requirement);
            else if (options.CurrentValue.PublicRead && context.User.Identity?.IsAuthenticated != true
                     && context.Resource is HttpContext http && ApiKeyAuthentication.KeyOf(http.Request) is null)
                context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }
}
