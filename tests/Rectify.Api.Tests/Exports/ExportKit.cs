using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;
using Sylvan.Data.Csv;

namespace Rectify.Api.Tests.Exports;

/// <summary>A CSV export as the wire carried it: the answer, its bytes, its text (after the BOM) and its parsed rows.</summary>
public sealed record CsvFile(HttpResponseMessage Response, byte[] Body, string Text, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    /// <summary>The rows as column name → field.</summary>
    public IReadOnlyList<Dictionary<string, string>> Records
        => Rows.Select(row => Header.Zip(row).ToDictionary(p => p.First, p => p.Second)).ToList();

    public List<long> Ids => Rows.Select(r => long.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
}

/// <summary>Downloads exports and reads them back with a real CSV reader (Sylvan, the one the import uses), and renders JSON values the way the export must.</summary>
public sealed class ExportKit(RectifyApp app)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Sends GET <paramref name="url"/> with <paramref name="accept"/> and returns the raw answer and its body.</summary>
    public async Task<(HttpResponseMessage Response, byte[] Body)> GetAsync(string url, string accept = "text/csv")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        var response = await app.CreateClient().SendAsync(request, Ct);
        return (response, await response.Content.ReadAsByteArrayAsync(Ct));
    }

    /// <summary>Downloads a CSV export, asserting a 200 text/csv answer that starts with the UTF-8 BOM, and parses it.</summary>
    public async Task<CsvFile> CsvAsync(string url)
    {
        var (response, body) = await GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200 but got {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.True(body.Length >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF, "The export does not start with the UTF-8 BOM.");
        // Strict decoding: a broken byte sequence fails the test instead of turning into U+FFFD.
        var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body, 3, body.Length - 3);
        var rows = Parse(text);
        Assert.NotEmpty(rows);
        return new CsvFile(response, body, text, rows[0], rows.Skip(1).ToList());
    }

    /// <summary>RFC 4180 parsing by Sylvan: quoted fields may hold commas, doubled quotes and line breaks.</summary>
    public static List<IReadOnlyList<string>> Parse(string text)
    {
        var rows = new List<IReadOnlyList<string>>();
        using var csv = CsvDataReader.Create(new StringReader(text), new CsvDataReaderOptions { HasHeaders = false, Delimiter = ',' });
        while (csv.Read())
        {
            var row = new string[csv.RowFieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = csv.GetString(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// Every line break outside quoted fields is CRLF, and the file ends with one: walks the text as a CSV reader would.
    /// </summary>
    public static void AssertCrlfLineEnds(string text)
    {
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"') quoted = !quoted;
            else if (!quoted && c == '\r') Assert.True(i + 1 < text.Length && text[i + 1] == '\n', $"A bare CR at {i}.");
            else if (!quoted && c == '\n') Assert.True(i > 0 && text[i - 1] == '\r', $"A bare LF at {i}.");
        }
        Assert.False(quoted, "A quoted field is not closed.");
        Assert.EndsWith("\r\n", text);
    }

    /// <summary>A JSON value as the CSV must write it: text as is, numbers as JSON writes them, true/false, null as empty.</summary>
    public static string Render(JsonNode? value) => value switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>() ? "true" : "false",
        _ => throw new ArgumentException($"Not a scalar: {value.ToJsonString()}", nameof(value)),
    };

    /// <summary>Every item of a JSON list, following the cursors.</summary>
    public static async Task<List<JsonNode>> AllItemsAsync(HttpClient client, string url)
    {
        var items = new List<JsonNode>();
        string? cursor = null;
        do
        {
            var page = await client.GetJsonAsync(url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "limit=200" + (cursor is null ? "" : $"&cursor={cursor}"));
            items.AddRange(page["items"]!.AsArray().Select(i => i!));
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);
        return items;
    }

    /// <summary>The ids a JSON list selects (every page).</summary>
    public static async Task<List<long>> JsonIdsAsync(HttpClient client, string url)
        => (await AllItemsAsync(client, url)).Select(i => i["id"]!.GetValue<long>()).ToList();
}
