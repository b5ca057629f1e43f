using System.Security.Cryptography;
using Rectify.Api.Features.Journal;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Webhooks;

/// <summary>
/// Administration of subscriptions: event types and targets are checked (no server-side request forgery), the secret is
/// made and shown once, and every change of a subscription is journalled before and after, never with its secret.
/// </summary>
public sealed class WebhookUseCases(Db db, WebhookRepository webhooks, OutboundGuard guard, JournalWriter journal, Caller caller)
{
    /// <summary>The journal's name for a subscription (see <see cref="Journal.JournalEntity.WebhookSubscription"/>).</summary>
    public const string JournalEntity = "webhook-subscription";

    public async Task<SubscriptionCreatedResponse> CreateAsync(CreateSubscriptionRequest request, CancellationToken ct)
    {
        var unknown = request.EventTypes.Except(WebhookEvents.All).ToArray();
        if (unknown.Length > 0)
            throw Refuse.Invalid("eventTypes", $"Unknown event types ({string.Join(", ", unknown)}); use: {string.Join(", ", WebhookEvents.All)}.");
        if (!Uri.TryCreate(request.Url, UriKind.Absolute, out var url)) throw Refuse.Invalid("url", "Give an absolute http or https URL.");
        try
        {
            await guard.CheckAsync(url, ct);
        }
        catch (OutboundRefusedException refused)
        {
            throw Refuse.DoesNotFit("url", refused.Reason);
        }
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var created = await db.WriteAsync(async (tx, token) =>
        {
            var types = request.EventTypes.Distinct().ToArray();
            var row = await webhooks.InsertAsync(tx, url.ToString(), types, request.Unit, secret, caller.Name, token);
            await journal.RecordAsync(tx, JournalEntity, row.Id, "create", null, row.ToResponse(), token);
            return row.ToResponse();
        }, ct);
        return new SubscriptionCreatedResponse(created, secret);
    }

    public Task<IReadOnlyList<SubscriptionResponse>> ListAsync(CancellationToken ct) => webhooks.ListAsync(ct);

    public async Task<SubscriptionResponse> GetAsync(long id, CancellationToken ct)
        => await webhooks.FindAsync(id, ct) ?? throw Refuse.NotFound("webhook subscription", id);

    /// <summary>Active again, its failure count reset; what it missed meanwhile is delivered in order.</summary>
    public Task<SubscriptionResponse> ResumeAsync(long id, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            var before = await webhooks.LockAsync(tx, id, token) ?? throw Refuse.NotFound("webhook subscription", id);
            var after = (await webhooks.ResumeAsync(tx, id, token)).ToResponse();
            await journal.RecordAsync(tx, JournalEntity, id, "resume", before.ToResponse(), after, token);
            return after;
        }, ct);

    public Task DeleteAsync(long id, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            var before = await webhooks.LockAsync(tx, id, token) ?? throw Refuse.NotFound("webhook subscription", id);
            await webhooks.DeleteAsync(tx, id, token);
            await journal.RecordAsync(tx, JournalEntity, id, "delete", before.ToResponse(), null, token);
            return true;
        }, ct);

    public async Task<IReadOnlyList<DeliveryResponse>> DeliveriesAsync(long id, CancellationToken ct)
    {
        await GetAsync(id, ct);
        return await webhooks.DeliveriesAsync(id, ct);
    }

    /// <summary>Sends an event again (it keeps its event id, so the receiver can tell it is the same event).</summary>
    public async Task<DeliveryResponse> RedeliverAsync(long id, long deliveryId, CancellationToken ct)
        => await db.WriteAsync((tx, token) => webhooks.RedeliverAsync(tx, id, deliveryId, token), ct, repeatable: true)
            ?? throw Refuse.NotFound("webhook delivery", deliveryId);
}
