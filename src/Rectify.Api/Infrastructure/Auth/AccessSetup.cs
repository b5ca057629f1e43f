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
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorization(options =>
        {
            Scopes.AddPolicies(options);
            // An endpoint that forgot to declare its scope is closed, not open.
            options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        });
        services.AddSingleton<IAuthorizationHandler, ScopeHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var push = http.Request.Path.StartsWithSegments("/api/v1/data-values/import");
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
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests, Type = ProblemTypes.TooManyRequests, Title = "Too many requests",
                        Detail = $"This client's rate limit is used up. Retry after {retryAfter} seconds.",
                    },
                });
            };
        });
        services.AddCors(options =>
        {
            if (access.CorsOrigins.Length > 0)
                options.AddPolicy(CorsPolicy, policy => policy.WithOrigins(access.CorsOrigins).AllowAnyMethod()
                    .WithHeaders("Authorization", ApiKeyAuthentication.HeaderName, "Content-Type", "If-Match", "If-None-Match", Http.IdempotentCreates.Header)
                    .WithExposedHeaders("ETag", "Location", "Retry-After", Http.IdempotentCreates.ReplayedHeader));
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
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AccessOptions>>().Value.CorsOrigins.Length > 0) app.UseCors(CorsPolicy);
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    sealed class ScopeHandler : AuthorizationHandler<ScopeRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
        {
            if (context.User.HasClaim(ApiKeyAuthentication.ScopeClaim, requirement.Scope)) context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }
}
