using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.OpenApi;

namespace Rectify.Api.Features.Webhooks;

public static class WebhookEndpoints
{
    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/webhooks").WithTags("Webhooks");

        group.MapPost("/", Create).RequireScope(Scopes.Admin)
            .WithName("CreateWebhookSubscription")
            .WithSummary("Subscribe to events")
            .WithDescription("Events are POSTed as JSON to url, signed with HMAC-SHA256 over timestamp + '.' + body (see the README). The secret " +
                "is in this answer only. The URL's host must be on the allow-list and resolve to an allowed address (loopback, private, link-local " +
                "and metadata addresses are refused unless configured): 422 otherwise, before any connection is made.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(request: new CreateSubscriptionRequest { Url = Example.Url, EventTypes = [WebhookEvents.IssueStateChanged] },
                response: new SubscriptionCreatedResponse(Example, "whsec_3q2+7w8Lr0Zx9Kc4vY1bN6mT5pQ0aS8dF2gH7jK4lM"));
        group.MapGet("/", List).RequireScope(Scopes.Admin)
            .WithName("ListWebhookSubscriptions")
            .WithSummary("List the subscriptions")
            .WithDescription("Every subscription with its state: a subscription that kept failing is paused, with the reason.")
            .WithExample(response: new[] { Example });
        group.MapGet("/{id:long}", Get).RequireScope(Scopes.Admin)
            .WithName("GetWebhookSubscription")
            .WithSummary("Read a subscription")
            .WithDescription("The subscription's target, events, state and failure count (never its secret).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Example);
        group.MapDelete("/{id:long}", Delete).RequireScope(Scopes.Admin)
            .WithName("DeleteWebhookSubscription")
            .WithSummary("Delete a subscription")
            .WithDescription("Removes the subscription and its delivery log; its pending events are not sent.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id:long}/resume", Resume).RequireScope(Scopes.Admin)
            .WithName("ResumeWebhookSubscription")
            .WithSummary("Resume a paused subscription")
            .WithDescription("Makes the subscription active again with its failure count reset; the events it missed are delivered in order.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Example);
        group.MapGet("/{id:long}/deliveries", Deliveries).RequireScope(Scopes.Admin)
            .WithName("ListWebhookDeliveries")
            .WithSummary("Read the delivery log")
            .WithDescription("The latest 200 deliveries, newest first: attempts, state, last status, latency, last error and next attempt.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: new[] { ExampleDelivery });
        group.MapPost("/{id:long}/deliveries/{deliveryId:long}/redeliver", Redeliver).RequireScope(Scopes.Admin)
            .WithName("RedeliverWebhookEvent")
            .WithSummary("Send an event again")
            .WithDescription("Queues the delivery again at once; the event keeps its id, so receivers that de-duplicate by id see it once.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: ExampleDelivery);
        return routes;
    }

    static readonly SubscriptionResponse Example = new(3, "https://jdpt.hainan.gov.cn/hooks/rectify", [WebhookEvents.IssueStateChanged], "HNMZT",
        "active", null, 0, "admin-console", new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc));

    static readonly DeliveryResponse ExampleDelivery = new(41, Guid.Parse("0b8e6c0e-8d0a-4c65-9a55-6b0f3c1f2a71"), WebhookEvents.IssueStateChanged,
        new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc), "delivered", 1, 200, null, 87, new DateTime(2025, 11, 5, 2, 0, 1, DateTimeKind.Utc),
        new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc), new DateTime(2025, 11, 5, 2, 0, 1, DateTimeKind.Utc));

    static async Task<Created<SubscriptionCreatedResponse>> Create(CreateSubscriptionRequest request, WebhookUseCases webhooks, CancellationToken ct)
    {
        var created = await webhooks.CreateAsync(request, ct);
        return TypedResults.Created($"/api/v1/webhooks/{created.Subscription.Id}", created);
    }

    static async Task<Ok<IReadOnlyList<SubscriptionResponse>>> List(WebhookUseCases webhooks, CancellationToken ct)
        => TypedResults.Ok(await webhooks.ListAsync(ct));

    static async Task<Ok<SubscriptionResponse>> Get(long id, WebhookUseCases webhooks, CancellationToken ct)
        => TypedResults.Ok(await webhooks.GetAsync(id, ct));

    static async Task<NoContent> Delete(long id, WebhookUseCases webhooks, CancellationToken ct)
    {
        await webhooks.DeleteAsync(id, ct);
        return TypedResults.NoContent();
    }

    static async Task<Ok<SubscriptionResponse>> Resume(long id, WebhookUseCases webhooks, CancellationToken ct)
        => TypedResults.Ok(await webhooks.ResumeAsync(id, ct));

    static async Task<Ok<IReadOnlyList<DeliveryResponse>>> Deliveries(long id, WebhookUseCases webhooks, CancellationToken ct)
        => TypedResults.Ok(await webhooks.DeliveriesAsync(id, ct));

    static async Task<Ok<DeliveryResponse>> Redeliver(long id, long deliveryId, WebhookUseCases webhooks, CancellationToken ct)
        => TypedResults.Ok(await webhooks.RedeliverAsync(id, deliveryId, ct));
}
