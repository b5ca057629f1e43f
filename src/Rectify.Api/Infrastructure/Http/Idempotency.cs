using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Infrastructure.Http;

/// <summary>
/// Creates honour an <c>Idempotency-Key</c> header: the key is claimed, the create runs and its answer is stored,
/// all in one transaction. A replay (same caller, key, operation and body) gets the stored answer; the same key
/// with another body or operation is a 422. A concurrent duplicate waits on the key's row and then replays.
/// </summary>
public sealed class IdempotentCreates(Db db, Caller caller, IOptions<JsonOptions> json)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>
    /// Runs <paramref name="create"/> in one transaction, with the key claimed and its answer stored in it when the
    /// request sent one, and answers 201 with the created value, its Location and (when it has a version) its ETag.
    /// A replay answers with what the first request stored, headers included.
    /// </summary>
    public async Task<Results<Created<TResponse>, Replayed>> CreateAsync<TRequest, TResponse>(
        HttpContext http, TRequest request, Func<Tx, CancellationToken, Task<CreatedAnswer<TResponse>>> create, CancellationToken ct)
    {
        if (KeyOf(http) is not { } key) return Answer(http, await db.WriteAsync(create, ct));

        var operation = $"{http.Request.Method} {http.Request.Path}";
        var hash = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, json.Value.SerializerOptions));
        // Repeatable: after a broken COMMIT the retry finds the key claimed and replays the stored answer.
        var (replay, created) = await db.WriteAsync<(Replayed?, CreatedAnswer<TResponse>?)>(async (tx, token) =>
        {
            if (await ClaimReplayAsync<TResponse>(tx, key, operation, hash, token, refusal: null) is { } stored) return (stored, null);

            var answer = await create(tx, token);
            await StoreAsync(tx, key, StatusCodes.Status201Created, answer.Location, answer.ETag, answer.Value, token);
            return (null, answer);
        }, ct, repeatable: true);
        return replay is not null ? replay : Answer(http, created!);
    }

    /// <summary>The one place a fresh create's ETag reaches the response (a replay's comes from the store).</summary>
    static Created<TResponse> Answer<TResponse>(HttpContext http, CreatedAnswer<TResponse> created)
    {
        if (created.ETag is not null) http.Response.Headers.ETag = created.ETag;
        return TypedResults.Created(created.Location, created.Value);
    }

    /// <summary>
    /// Claims <paramref name="key"/> for this request inside <paramref name="tx"/>: null when it is new (go on, then
    /// <see cref="StoreAsync{T}"/> the answer), the first answer when it is a replay, a 422 when it was used for
    /// another request. A concurrent request with the same key waits here until the first one ends.
    /// </summary>
    /// <param name="refusal">Fields the 422 carries besides the problem's own (the push's summary), where the operation documents them.</param>
    public async Task<IResult?> ClaimAsync<TResponse>(Tx tx, HttpContext http, string key, string operation, byte[] hash, CancellationToken ct,
        IReadOnlyDictionary<string, object?>? refusal = null)
        => await ClaimReplayAsync<TResponse>(tx, key, operation, hash, ct, refusal);

    async Task<Replayed?> ClaimReplayAsync<TResponse>(Tx tx, string key, string operation, byte[] hash, CancellationToken ct,
        IReadOnlyDictionary<string, object?>? refusal)
    {
        var args = new { caller = caller.Name, key, operation, hash };
        var claimed = await tx.QuerySingleOrDefaultAsync<bool?>(ClaimSql, args, ct);
        return claimed is null ? Replay<TResponse>(await tx.QuerySingleAsync<StoredAnswer>(StoredSql, args, ct), operation, hash, refusal) : null;
    }

    /// <summary>Stores the answer to a claimed key, in the same transaction as the work it answers.</summary>
    public Task StoreAsync<T>(Tx tx, string key, int? status, string? location, string? etag, T answer, CancellationToken ct)
        => tx.ExecuteAsync(StoreSql, new
        {
            caller = caller.Name, key, status, location, etag = NullIfEmpty(etag),
            body = JsonSerializer.Serialize(answer, json.Value.SerializerOptions),
        }, ct);

    /// <summary>The key of this request, or null when none was sent; a 400 when it is not a usable key.</summary>
    public static string? KeyOf(HttpContext http)
    {
        var key = http.Request.Headers[Header].ToString();
        if (key.Length == 0) return null;
        return key.Length > 200 || key.Any(c => c is < '!' or > '~')
            ? throw Problem.Validation(Header, "Idempotency-Key must be 1–200 visible ASCII characters (a UUID is a good choice).")
            : key;
    }

    static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    Replayed Replay<TResponse>(StoredAnswer stored, string operation, byte[] hash, IReadOnlyDictionary<string, object?>? refusal)
    {
        if (stored.Operation != operation || !CryptographicOperations.FixedTimeEquals(stored.RequestHash, hash))
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, ProblemTypes.IdempotencyKeyReused,
                "Idempotency-Key reused with another request",
                "This Idempotency-Key was first used with a different body or operation. Use a new key for a new request.", refusal);
        var status = stored.Status ?? StatusCodes.Status201Created;
        // jsonb keeps the values but not the text (it reorders keys and adds spaces): read the answer back into its
        // type and write it as the first answer was written, so that a replay is byte for byte the first answer.
        // An answer stored by an earlier version that no longer reads into the type is replayed as stored.
        try
        {
            if (stored.Response is not null && JsonSerializer.Deserialize<TResponse>(stored.Response, json.Value.SerializerOptions) is { } answer)
                return new Replayed(TypedResults.Json(answer, json.Value.SerializerOptions, statusCode: status), stored.Location, stored.ETag);
        }
        catch (JsonException)
        {
        }
        catch (NotSupportedException)
        {
        }
        return new Replayed(Results.Text(stored.Response ?? "null", "application/json", Encoding.UTF8, status), stored.Location, stored.ETag);
    }

    const string ClaimSql = """
        INSERT INTO idempotency_keys (caller, key, operation, request_hash)
        VALUES (@caller, @key, @operation, @hash)
        ON CONFLICT (caller, key) DO NOTHING
        RETURNING true
        """;

    const string StoredSql = """
        SELECT operation, request_hash AS RequestHash, status, location, etag, response::text AS response
        FROM idempotency_keys
        WHERE caller = @caller AND key = @key
        """;

    const string StoreSql = """
        UPDATE idempotency_keys SET status = @status, location = @location, etag = @etag, response = @body::jsonb
        WHERE caller = @caller AND key = @key
        """;

    sealed class StoredAnswer
    {
        public string Operation { get; init; } = "";
        public byte[] RequestHash { get; init; } = [];
        public int? Status { get; init; }
        public string? Location { get; init; }
        public string? ETag { get; init; }
        public string? Response { get; init; }
    }
}

/// <summary>What a create made: its answer, where it lives, and its ETag when it is versioned (see <see cref="IdempotentCreates"/>).</summary>
public sealed record CreatedAnswer<T>(string Location, T Value)
{
    /// <summary>The version's ETag, stored with the answer for a replay and sent as the ETag header.</summary>
    public string? ETag { get; init; }

    /// <summary>A versioned resource: its ETag is the version's (see <see cref="ETags"/>).</summary>
    public CreatedAnswer(string location, T value, int version) : this(location, value) => ETag = ETags.For(version);
}

/// <summary>The stored answer to an earlier request with the same Idempotency-Key: its body, status and headers as first sent.</summary>
public sealed class Replayed(IResult body, string? location, string? etag) : IResult
{
    public Task ExecuteAsync(HttpContext http)
    {
        http.Response.Headers[IdempotentCreates.ReplayedHeader] = "true";
        if (location is not null) http.Response.Headers.Location = location;
        if (etag is not null) http.Response.Headers.ETag = etag;
        return body.ExecuteAsync(http);
    }
}
