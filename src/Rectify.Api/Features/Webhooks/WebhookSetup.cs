using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Rectify.Api.Features.Webhooks;

/// <summary>
/// The webhooks' services: the outbound guard, the delivering worker and its HTTP client, whose retries and
/// connection rules are part of what a subscriber is promised (see the README's Webhooks section).
/// </summary>
public static class WebhookSetup
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section))
            .Validate(o => o.Lease > o.AttemptTimeout,
                "Rectify:Webhooks:Lease must be longer than AttemptTimeout: a node gives up a call before its lease ends.")
            .ValidateOnStart();
        services.AddSingleton<IOutboundNetwork, SystemNetwork>();
        services.AddSingleton<OutboundGuard>();
        services.AddSingleton<WebhookRepository>();
        services.AddScoped<WebhookUseCases>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<WebhookDispatcher>());
        services.AddHttpClient(WebhookDispatcher.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            // The guard connects (ConnectCallback): the address connected to is the address checked. No proxy, no redirects.
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                ConnectCallback = provider.GetRequiredService<OutboundGuard>().ConnectAsync,
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            })
            .AddResilienceHandler(WebhookDispatcher.HttpClientName, (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<WebhookOptions>>().Value;
                // Waits between attempts are network time, not the service's (settable, domain) clock.
                pipeline.TimeProvider = TimeProvider.System;
                if (options.RetriesPerDelivery > 0)
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        // 5xx, 408, 429 and timeouts, honouring Retry-After; never a refused target (retrying cannot make it allowed).
                        ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is not OutboundRefusedException
                            && args.Outcome.Exception?.InnerException is not OutboundRefusedException
                            && HttpClientResiliencePredicates.IsTransient(args.Outcome)),
                        MaxRetryAttempts = options.RetriesPerDelivery,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = options.RetryDelay,
                        ShouldRetryAfterHeader = true,
                    });
                pipeline.AddTimeout(options.AttemptTimeout);
            });
        return services;
    }
}
