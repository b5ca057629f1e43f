using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// Calls the data-value tests share: indicators created through the API, pushes as CSV or JSON bytes exactly as a
/// scheduled job sends them, and the stored rows read straight from data_values (what the push really wrote).
/// </summary>
public sealed class ImportKit(RectifyApp app)
{
    public const string ImportUrl = "/api/v1/data-values/import";
    public const string CsvHeader = "indicator,unit,period,value,comment";

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public HttpClient Client { get; } = app.Client();

    public Seed Seed { get; } = new(app);

    /// <summary>The instant the test clock shows now, as PostgreSQL stores it (UTC, microseconds).</summary>
    public DateTime Now => app.Clock.GetUtcNow().UtcDateTime;

    /// <summary>Creates a pushed (non-ratio) indicator through the API, with the seed's units in place; returns its code.</summary>
    public async Task<string> IndicatorAsync(string frequency = "monthly", string valueType = "count")
    {
        await Seed.UnitsAsync();
        var code = Seed.Unique("IND");
        await CreateIndicatorAsync(new
        {
            code, name = "累计取消收费项目数", measureUnit = "项", valueType, frequency, regionAggregation = "sum", timeAggregation = "stock",
            direction = "higher_is_better",
        });
        return code;
    }

    /// <summary>A ratio indicator (numerator / denominator of two new pushed indicators); returns its code.</summary>
    public async Task<string> RatioIndicatorAsync()
    {
        var numerator = await IndicatorAsync();
        var denominator = await IndicatorAsync();
        var code = Seed.Unique("RATIO");
        await CreateIndicatorAsync(new
        {
            code, name = "问题整改完成率", measureUnit = "%", valueType = "ratio", frequency = "monthly", regionAggregation = "none",
            timeAggregation = "stock", direction = "higher_is_better", numerator, denominator,
        });
        return code;
    }

    async Task CreateIndicatorAsync(object body)
    {
        using var response = await Client.PostJsonAsync("/api/v1/indicators", body);
        await response.ShouldBeAsync(HttpStatusCode.Created);
    }

    /// <summary>
    /// Locks <paramref name="indicator"/>'s values of <paramref name="month"/> in the province (460000 and below) as a
    /// published snapshot does: a round of its own with the indicator linked to an issue, its snapshot of the month pushed
    /// and published. Returns the round's code.
    /// </summary>
    public async Task<string> PublishLockAsync(string indicator, string month)
    {
        var round = await Seed.RoundAsync();
        var issue = (await Seed.IssueAsync(round, code: "1"))["id"]!.GetValue<long>();
        await app.ScalarAsync<int>("INSERT INTO indicator_issues (indicator_id, issue_id) SELECT id, @issue FROM indicators WHERE code = @indicator; SELECT 1;",
            new { issue, indicator });
        var url = $"/api/v1/rounds/{round}/snapshots/{month}";
        using (var pushed = await Client.PutJsonAsync(url, new { narrative = "月度进展" }, ifMatch: null)) await pushed.ShouldBeAsync(HttpStatusCode.OK);
        using (var published = await Client.PostJsonAsync($"{url}/publish", new { })) await published.ShouldBeAsync(HttpStatusCode.OK);
        return round;
    }

    /// <summary>Adds <paramref name="count"/> units T{prefix}-0001… under 460000 (for pushes with many keys); returns their codes.</summary>
    public async Task<string[]> ManyUnitsAsync(string prefix, int count)
    {
        await Seed.UnitsAsync();
        await app.ScalarAsync<int>("""
            INSERT INTO units (code, name, kind, parent_code)
            SELECT @prefix || '-' || lpad(n::text, 4, '0'), '测试单位' || n, 'county', '460000' FROM generate_series(1, @count) n
            ON CONFLICT DO NOTHING;
            SELECT 1;
            """, new { prefix, count });
        return Enumerable.Range(1, count).Select(n => $"{prefix}-{n:D4}").ToArray();
    }

    /// <summary>The CSV text of a push: the header, then one line per row, joined by <paramref name="newline"/>.</summary>
    public static string Csv(IEnumerable<string> rows, string newline = "\r\n", string header = CsvHeader)
        => string.Join(newline, rows.Prepend(header)) + newline;

    public static string Money(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    public Task<HttpResponseMessage> PushCsvAsync(string csv, string query = "", string? key = null, bool bom = false)
    {
        var bytes = Encoding.UTF8.GetBytes(csv);
        if (bom) bytes = [0xEF, 0xBB, 0xBF, .. bytes];
        return PushBytesAsync(bytes, "text/csv", query, key);
    }

    /// <summary>Pushes <paramref name="body"/> serialised as JSON (an anonymous object or an array of them).</summary>
    public Task<HttpResponseMessage> PushJsonAsync(object body, string query = "", string? key = null)
        => PushBytesAsync(JsonSerializer.SerializeToUtf8Bytes(body, Http.Json), "application/json", query, key);

    public Task<HttpResponseMessage> PushRawJsonAsync(string json, string query = "", string? key = null)
        => PushBytesAsync(Encoding.UTF8.GetBytes(json), "application/json", query, key);

    public Task<HttpResponseMessage> PushBytesAsync(byte[] body, string contentType, string query = "", string? key = null, HttpClient? client = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return PushAsync(content, query, key, client);
    }

    public Task<HttpResponseMessage> PushAsync(HttpContent content, string query = "", string? key = null, HttpClient? client = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, ImportUrl + (query.Length == 0 ? "" : "?" + query)) { Content = content };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        return (client ?? Client).SendAsync(request, Ct);
    }

    /// <summary>Asserts a 200 import summary and returns it.</summary>
    public static async Task<JsonNode> AppliedAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var summary = await response.ShouldBeAsync(HttpStatusCode.OK);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            return summary;
        }
    }

    /// <summary>Asserts the 422 import-rejected problem and returns the summary it carries.</summary>
    public static async Task<JsonNode> RefusedAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "import-rejected");
            var summary = problem["summary"] ?? throw new InvalidOperationException("The problem carries no summary: " + problem.ToJsonString());
            Assert.False(summary["applied"]!.GetValue<bool>());
            return summary;
        }
    }

    /// <summary>Asserts received, inserted, updated, unchanged, deleted and rejected of a summary, in that order.</summary>
    public static void Counts(JsonNode summary, long received, long inserted = 0, long updated = 0, long unchanged = 0, long deleted = 0, long rejected = 0)
    {
        long[] expected = [received, inserted, updated, unchanged, deleted, rejected];
        string[] names = ["received", "inserted", "updated", "unchanged", "deleted", "rejected"];
        var actual = names.Select(n => summary[n]!.GetValue<long>()).ToArray();
        Assert.True(expected.SequenceEqual(actual),
            $"Expected received/inserted/updated/unchanged/deleted/rejected {string.Join('/', expected)} but got {string.Join('/', actual)}: {summary.ToJsonString()}");
    }

    /// <summary>The summary's errors as (row, field) pairs, in the order listed.</summary>
    public static (int Row, string Field)[] Errors(JsonNode summary)
        => summary["errors"]!.AsArray().Select(e => (checked((int)e!["row"]!.GetValue<long>()), e["field"]!.GetValue<string>())).ToArray();

    public static string Message(JsonNode summary, long row)
        => summary["errors"]!.AsArray().Single(e => e!["row"]!.GetValue<long>() == row)!["message"]!.GetValue<string>();

    /// <summary>The stored values of one indicator, in key order, straight from data_values.</summary>
    public async Task<List<StoredValue>> ValuesAsync(string indicator)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync(Ct);
        var rows = await connection.QueryAsync<StoredValue>(new CommandDefinition("""
            SELECT d.unit_code AS unit, d.period, d.value, d.comment, d.source, d.created_at AS createdat, d.updated_at AS updatedat,
                   d.xmin::text::bigint AS xmin
            FROM data_values d JOIN indicators i ON i.id = d.indicator_id
            WHERE i.code = @indicator
            ORDER BY d.unit_code, d.period
            """, new { indicator }, cancellationToken: Ct));
        return rows.AsList();
    }

    public Task<long> CountAsync(string indicator)
        => app.ScalarAsync<long>("SELECT count(*) FROM data_values d JOIN indicators i ON i.id = d.indicator_id WHERE i.code = @indicator", new { indicator });

    /// <summary>Journal rows of pushes (one per applied push).</summary>
    public Task<long> PushJournalCountAsync(string? importId = null)
        => app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'data-values' AND (@importId::text IS NULL OR entity_id = @importId)",
            new { importId });

    public static string ImportId(JsonNode summary) => summary["importId"]!.GetValue<string>();
}

/// <summary>One row of data_values as stored, with the transaction that last wrote it (xmin).</summary>
public sealed class StoredValue
{
    public string Unit { get; init; } = "";
    public string Period { get; init; } = "";
    public decimal Value { get; init; }
    public string? Comment { get; init; }
    public string Source { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public long Xmin { get; init; }

    public override string ToString() => $"{Unit} {Period} = {Value} ({Comment})";
}
