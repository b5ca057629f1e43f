using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Rectify.Api.Infrastructure.Database;

public sealed class ReadCacheOptions
{
    public const string Section = "ReadCache";

    /// <summary>Off: every read reaches PostgreSQL.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Bound of the answers kept, in bytes of their JSON (each counted with 256 more for its key and entry).
    /// </summary>
    public long SizeLimitBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Longest an answer is kept even when no change is announced: the bound of staleness should a notification ever be lost
    /// without the listener noticing (it checks its connection every <see cref="ListenerCheckInterval"/>).
    /// </summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the change listener, when no notification came, checks that its connection still answers.</summary>
    public TimeSpan ListenerCheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>An answer as the read cache keeps it: the JSON of its body, and its version (the ETag) where it has one.</summary>
public sealed record KeptJson(byte[] Utf8Json, int? Version);

/// <summary>
/// What one cached answer depends on: the read, its arguments (compared by value: records, tuples), the units the caller
/// may read (null: all), and the day for answers that depend on it (overdue, due soon; null for those that do not).
/// </summary>
public readonly record struct ReadCacheKey(string Read, object? Arguments, string? ReadableUnits, DateOnly? Day)
{
    public ReadCacheKey(string read, object? arguments, string[]? readableUnits, DateOnly? day)
        : this(read, arguments, readableUnits is null ? null : string.Join(',', readableUnits), day)
    {
    }
}

/// <summary>
/// Answers of repeated reads kept in this node's memory until anything they could depend on changes. A change is known
/// from two sources: this node's own write requests (<see cref="ReadCacheSetup.UseReadCache"/> forgets every answer before
/// the write's response starts, so a caller reads its own writes on this node), and every other writer — other nodes,
/// background jobs, SQL run by hand — through PostgreSQL: statement triggers on the tables that answers are read from
/// notify <see cref="Channel"/> (migration 0021), and <see cref="ChangeListener"/> forgets every answer when one arrives.
/// </summary>
/// <remarks>
/// Forgetting swaps in an empty store: a read that began before a change keeps writing into the store it began with,
/// which nobody reads any more, so an answer read before a change is never served after it (no check-then-store race).
/// Nothing is kept while the listener is not connected (a change could pass unseen), for reads that must see the primary
/// now (<c>Consistency: strong</c>, <c>Min-LSN</c>) and when reads go to standbys (a standby can still be behind a change
/// the primary already announced).
/// </remarks>
public sealed class ReadCache
{
    public const string Channel = "rectify_changes";

    readonly ReadCacheOptions _options;
    readonly bool _enabled;
    readonly Counter<long> _lookups;
    readonly JsonSerializerOptions _json;
    MemoryCache _store;
    volatile bool _listening;

    public ReadCache(IOptions<ReadCacheOptions> options, DatabaseTopology topology, IMeterFactory meters,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        _options = options.Value;
        _json = json.Value.SerializerOptions;
        _enabled = _options.Enabled && !topology.HasStandbys;
        _store = NewStore();
        _lookups = meters.Create(DatabaseMetrics.MeterName).CreateCounter<long>("rectify.read_cache.lookups",
            description: "Reads asked of the read cache, by outcome: hit (answered from memory), miss (read, and kept unless a change came "
                + "meanwhile), bypass (not cacheable now).");
    }

    /// <summary>Whether answers may be kept at all (configured on, one database host); the listener runs only then.</summary>
    public bool Enabled => _enabled;

    /// <summary>
    /// The answer of <paramref name="read"/> for <paramref name="key"/> as the JSON of its body (serialised like
    /// <c>Ok&lt;TBody&gt;</c> would) and its version: from memory when an earlier one is kept, else read, serialised and
    /// kept unless a change was announced meanwhile. Null when the read finds nothing (not kept).
    /// </summary>
    /// <remarks>
    /// The JSON is kept, not the objects: a hit is written without serialising again, and bytes take less memory than
    /// the objects (a series' decimals and strings) and nothing for the GC to trace.
    /// </remarks>
    public Task<KeptJson?> GetOrReadJsonAsync<TBody>(ReadCacheKey key, Func<CancellationToken, Task<(TBody Body, int? Version)?>> read,
        CancellationToken ct)
        => GetOrReadAsync(key, async token => await read(token) is var (body, version)
            ? new KeptJson(JsonSerializer.SerializeToUtf8Bytes(body, _json), version)
            : null, json => json.Utf8Json.Length, ct);

    /// <summary>
    /// What <paramref name="read"/> answers for <paramref name="key"/>, kept as it is (for small, immutable objects that
    /// reads need on their way, such as an indicator's definition); counted as <paramref name="size"/> bytes.
    /// </summary>
    public async Task<T?> GetOrReadAsync<T>(ReadCacheKey key, Func<CancellationToken, Task<T?>> read, Func<T, int> size, CancellationToken ct)
        where T : class
    {
        var usable = Usable;
        var store = Volatile.Read(ref _store);
        if (usable && store.TryGetValue(key, out T? kept) && kept is not null)
        {
            _lookups.Add(1, new KeyValuePair<string, object?>("outcome", "hit"));
            return kept;
        }
        _lookups.Add(1, new KeyValuePair<string, object?>("outcome", usable ? "miss" : "bypass"));
        var answer = await read(ct);
        if (answer is not null && usable && _listening)
            store.Set(key, answer, new MemoryCacheEntryOptions { Size = 256 + size(answer), AbsoluteExpirationRelativeToNow = _options.Lifetime });
        return answer;
    }

    bool Usable => _enabled && _listening && ReadConsistency.Current is not ({ Strong: true } or { MinLsn: not null });

    /// <summary>Forgets every kept answer: something they may depend on changed.</summary>
    public void Forget() => Volatile.Write(ref _store, NewStore());

    /// <summary>
    /// The listener's connection state: answers are kept only while it listens, and everything kept is forgotten on
    /// either edge (a change may have passed while it was not listening).
    /// </summary>
    internal void Listening(bool listening)
    {
        _listening = listening;
        Forget();
    }

    // The replaced store is not disposed: reads that began with it may still touch it; it holds nothing but memory.
    // A full store drops a quarter of its answers at once (the least recently used first), not the default 5 %: under a
    // stream of new keys, each compaction goes over every entry, so fewer of them cost less.
    MemoryCache NewStore() => new(new MemoryCacheOptions { SizeLimit = _options.SizeLimitBytes, CompactionPercentage = 0.25 });
}

public static class ReadCacheSetup
{
    public static IServiceCollection AddReadCache(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ReadCacheOptions>(configuration.GetSection(ReadCacheOptions.Section));
        services.AddSingleton<ReadCache>();
        services.AddScoped<SystemWorkEnd>();
        services.AddSingleton<ChangeListener>();
        services.AddHostedService(provider => provider.GetRequiredService<ChangeListener>());
        return services;
    }

    /// <summary>
    /// A request that may write (any but GET, HEAD, OPTIONS) forgets the kept answers before its response starts, whatever
    /// its status (some refusals still commit, e.g. a push's accepted rows): its caller's next read on this node sees the
    /// write without waiting for the database's notification.
    /// </summary>
    public static WebApplication UseReadCache(this WebApplication app)
    {
        var cache = app.Services.GetRequiredService<ReadCache>();
        if (!cache.Enabled) return app;
        app.Use((http, next) =>
        {
            var method = http.Request.Method;
            if (!(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)))
                http.Response.OnStarting(() =>
                {
                    cache.Forget();
                    return Task.CompletedTask;
                });
            return next(http);
        });
        return app;
    }
}

/// <summary>
/// Resolved by every system scope (<see cref="Auth.SystemScope"/>): when the scope ends, this node forgets its kept
/// answers, so that the service's own work outside requests (a job's run, loading the reference case) is read back at
/// once on this node, as a write request's is, not only when the database's notification arrives.
/// </summary>
public sealed class SystemWorkEnd(ReadCache cache) : IDisposable
{
    public void Dispose() => cache.Forget();
}
