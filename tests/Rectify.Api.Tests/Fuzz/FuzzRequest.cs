using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;

namespace Rectify.Api.Tests.Fuzz;

/// <summary>How If-Match is filled in just before sending: with the resource's current ETag, so that only the hostile part can refuse the
/// request.</summary>
public enum FreshETag { None, Exact, Weak, ExactThenGarbage, GarbageThenExact }

/// <summary>One generated request, ready to send. <see cref="Detail"/> says what in it is hostile.</summary>
public sealed class FuzzRequest
{
    public required FuzzKind Kind { get; init; }
    public required ApiOperation Operation { get; init; }
    public required ulong Seed { get; init; }
    public required string Method { get; init; }
    public required string Url { get; init; }
    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }
    public byte[]? Body { get; init; }
    /// <summary>Null: no Content-Type header at all.</summary>
    public string? ContentType { get; init; }
    public FreshETag FreshETag { get; init; }
    /// <summary>The resource whose current ETag goes into If-Match.</summary>
    public string? ETagSource { get; init; }
    public required string Detail { get; init; }

    /// <summary>Everything the caller sent, as text: an error may repeat it, but must not add SQL or stack traces of its own.</summary>
    public string SentText => string.Join("\n", Uri.UnescapeDataString(Url), string.Join("\n", Headers.Select(h => $"{h.Key}: {h.Value}")),
        Body is null ? "" : Encoding.UTF8.GetString(Body), Body is null ? "" : Encoding.Unicode.GetString(Body), ContentType ?? "");
}

/// <summary>Random choices from one seed (PCG, as CsCheck draws them), so that each request can be rebuilt from its seed alone.</summary>
public sealed class Draw(ulong seed)
{
    readonly PCG _pcg = new(7, seed);

    public T From<T>(Gen<T> gen) => gen.Generate(_pcg, null!, out _);
    public int Int(int min, int max) => min + (int)_pcg.Next((uint)(max - min + 1));
    public bool Chance(double p) => _pcg.Next(1_000_000) < p * 1_000_000;
    public T One<T>(IReadOnlyList<T> items) => items[Int(0, items.Count - 1)];
}

/// <summary>
/// Builds requests for an operation of the document: first a plausible one (real ids and codes from the demo data,
/// a body that follows the schema, the current ETag), then one hostile change of the given kind.
/// </summary>
public sealed partial class RequestFactory(ApiDescription api, KnownKeys keys)
{
    const string Marker = "@@FUZZ";
    const int MaxUrlValue = 16_000;

    static readonly JsonSerializerOptions Writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly string[] AllMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FUZZ"];
    static readonly string[] Phrases = ["整改", "殡葬改革推行不力", "社会救助体系不够健全", "养老服务事业短板突出", "月报制度", "Rectification", "监督一张网"];

    static readonly FuzzKind[] Everywhere =
    [
        FuzzKind.Baseline, FuzzKind.HugeNumbers, FuzzKind.LongStrings, FuzzKind.ControlCharacters, FuzzKind.InvalidUtf8, FuzzKind.ChineseAndEmoji,
        FuzzKind.SqlAndPathFragments, FuzzKind.InvalidPeriods, FuzzKind.DatesOutOfRange, FuzzKind.WrongTypes, FuzzKind.HostileQueryParameters,
        FuzzKind.HostileHeaders, FuzzKind.WrongMethod,
    ];

    static readonly FuzzKind[] BodyKinds =
    [
        FuzzKind.MalformedJson, FuzzKind.TruncatedBody, FuzzKind.DuplicateKeys, FuzzKind.DeepNesting, FuzzKind.OversizedBody,
            FuzzKind.WrongContentType,
    ];

    static readonly FuzzKind[] JsonOnlyKinds = [FuzzKind.MalformedJson, FuzzKind.DuplicateKeys, FuzzKind.DeepNesting];

    static readonly FuzzKind[] CsvKinds = [FuzzKind.CsvRaggedRows, FuzzKind.CsvBadQuoting, FuzzKind.CsvBom, FuzzKind.CsvMixedLineEndings];

    /// <summary>The kinds that make sense for an operation (every operation gets the kinds that go into URL and headers).</summary>
    public static IReadOnlyList<FuzzKind> KindsFor(ApiOperation op)
    {
        var kinds = new List<FuzzKind>(Everywhere);
        if (op.In("path").Any()) kinds.Add(FuzzKind.HostilePathParameters);
        if (op.HasBody) kinds.AddRange(BodyKinds);
        if (op.TakesCsv) kinds.AddRange(CsvKinds);
        return kinds;
    }

    public FuzzRequest Build(ApiOperation op, FuzzKind kind, ulong seed)
    {
        var d = new Draw(seed);
        var draft = Base(op, kind, d);
        switch (kind)
        {
            case FuzzKind.Baseline: draft.Note("plausible request"); break;
            case FuzzKind.HugeNumbers: Place(draft, d, d.From(HostileValues.HugeNumbers), s => s.IsNumeric); break;
            case FuzzKind.LongStrings: Place(draft, d, d.From(HostileValues.LongStrings), s => s.IsText); break;
            case FuzzKind.ControlCharacters: Place(draft, d, d.From(HostileValues.ControlCharacters), s => s.IsText); break;
            case FuzzKind.InvalidUtf8: Place(draft, d, d.From(HostileValues.InvalidUtf8), s => s.IsText); break;
            case FuzzKind.ChineseAndEmoji: ChineseAndEmoji(draft, d); break;
            case FuzzKind.SqlAndPathFragments: Place(draft, d, d.From(HostileValues.SqlAndPath), s => s.IsText); break;
            case FuzzKind.InvalidPeriods: Place(draft, d, d.From(HostileValues.InvalidPeriods), s => s.IsPeriod); break;
            case FuzzKind.DatesOutOfRange: Place(draft, d, d.From(HostileValues.BadDates), s => s.IsDate); break;
            case FuzzKind.WrongTypes: WrongTypes(draft, d); break;
            case FuzzKind.MalformedJson: MalformedJson(draft, d); break;
            case FuzzKind.TruncatedBody: Truncated(draft, d); break;
            case FuzzKind.DuplicateKeys: DuplicateKeys(draft, d); break;
            case FuzzKind.DeepNesting: DeepNesting(draft, d); break;
            case FuzzKind.OversizedBody: Oversized(draft, d); break;
            case FuzzKind.WrongContentType: WrongContentType(draft, d); break;
            case FuzzKind.HostilePathParameters: HostilePath(draft, d); break;
            case FuzzKind.HostileQueryParameters: HostileQuery(draft, d); break;
            case FuzzKind.HostileHeaders: HostileHeaders(draft, d); break;
            case FuzzKind.WrongMethod: WrongMethod(draft, d); break;
            case FuzzKind.CsvRaggedRows: CsvRagged(draft, d); break;
            case FuzzKind.CsvBadQuoting: CsvBadQuoting(draft, d); break;
            case FuzzKind.CsvBom: CsvBom(draft, d); break;
            case FuzzKind.CsvMixedLineEndings: CsvLineEndings(draft, d); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
        return draft.Finish(kind, seed);
    }

    // ---------------------------------------------------------------- the plausible request

    Draft Base(ApiOperation op, FuzzKind kind, Draw d)
    {
        var draft = new Draft(op);
        foreach (var p in op.In("path")) draft.PathValues[p.Name] = Url.Encode(RealPathValue(op, p, d));
        foreach (var p in op.In("query"))
        {
            if (!p.Required && !d.Chance(0.35)) continue;
            if (ValidQueryValue(op, p, d) is { } value) draft.Query.Add((p.Name, Url.Encode(value)));
        }

        var accept = d.Int(0, 9);
        if (accept < 8) draft.Headers.Add(new("Accept", "application/json"));
        else if (accept == 8) draft.Headers.Add(new("Accept", "*/*"));
        if (op.Has("header", "Idempotency-Key") && d.Chance(0.5)) draft.Headers.Add(new("Idempotency-Key", Guid.NewGuid().ToString()));
        if (op.Has("header", "If-Match") && d.Chance(0.75)) draft.FreshETag = FreshETag.Exact;

        if (op.HasBody)
        {
            // A binary upload (an evidence file) takes neither: it gets text, which is no file of any allowed kind.
            var csv = !op.TakesJson || (op.TakesCsv && (CsvKinds.Contains(kind) || (!JsonOnlyKinds.Contains(kind) && d.Chance(0.5))));
            if (csv) draft.Csv = ValidCsv(d);
            else draft.Json = ValidJson(op.Bodies["application/json"], "body", d, 0);
        }
        return draft;
    }

    string RealPathValue(ApiOperation op, ApiParameter p, Draw d)
    {
        var segments = op.Path.Split('/');
        var index = Array.IndexOf(segments, "{" + p.Name + "}");
        var collection = index > 0 ? segments[index - 1] : "";
        var integer = ApiDescription.MainType(api.Resolve(p.Schema)) == "integer";
        if (d.Chance(0.12)) return integer ? d.One(["999999999", "0", "424242"]) : d.One(["NO-SUCH-CODE", "999999", "X"]);
        if (integer)
        {
            var ids = keys.Ids(collection).Count > 0 ? keys.Ids(collection) : keys.AllIds;
            return ids.Count > 0 ? d.One(ids).ToString(System.Globalization.CultureInfo.InvariantCulture) : "1";
        }
        var codes = keys.Codes(collection).Count > 0 ? keys.Codes(collection) : keys.AllCodes;
        return codes.Count > 0 ? d.One(codes) : "X";
    }

    string? ValidQueryValue(ApiOperation op, ApiParameter p, Draw d)
    {
        var schema = api.Resolve(p.Schema);
        if (ApiDescription.EnumValues(schema) is { Count: > 0 } values) return d.One(values);
        var name = p.Name;
        switch (ApiDescription.MainType(schema))
        {
            case "boolean": return d.Chance(0.5) ? "true" : "false";
            case "integer":
                if (name == "limit") return d.Int(1, 200).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return KnownLongs(name) is { Count: > 0 } ids ? d.One(ids).ToString(System.Globalization.CultureInfo.InvariantCulture) : d.Int(1, 10)
                    .ToString(System.Globalization.CultureInfo.InvariantCulture);
            case "number": return d.Int(0, 100).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return name switch
        {
            "cursor" => keys.CursorFor(op.Path),
            "q" => d.One(Phrases),
            "entity" => d.One(["rounds", "issues", "measures", "indicators", "data-values"]),
            "entityId" => keys.AllIds.Count > 0 ? d.One(keys.AllIds).ToString(System.Globalization.CultureInfo.InvariantCulture) : "1",
            "actor" => Infrastructure.RectifyApp.ClientName,
            "revisionReason" => "更正上月数据",
            _ => ValidString(schema, name, d),
        };
    }

    JsonNode? ValidJson(JsonNode schemaNode, string name, Draw d, int depth)
    {
        var schema = api.Resolve(schemaNode);
        if (ApiDescription.EnumValues(schema) is { Count: > 0 } values) return JsonValue.Create(d.One(values));
        if (ApiDescription.Nullable(schema) && d.Chance(0.15)) return null;
        switch (ApiDescription.MainType(schema))
        {
            case "object":
                var obj = new JsonObject();
                var required = ApiDescription.Required(schema);
                foreach (var (property, propertySchema) in ApiDescription.Properties(schema))
                    if (required.Contains(property) || d.Chance(0.55)) obj[property] = ValidJson(propertySchema, property, d, depth + 1);
                return obj;
            case "array":
                var array = new JsonArray();
                var count = depth == 0 ? d.Int(1, 3) : d.Int(0, 3);
                for (var i = 0; i < count; i++) array.Add(ValidJson(schema["items"] ?? new JsonObject(), name, d, depth + 1));
                return array;
            case "integer":
                if (KnownLongs(name) is { Count: > 0 } ids) return JsonValue.Create(d.One(ids));
                var min = (long)(schema["minimum"]?.GetValue<double>() ?? 0);
                var max = (long)Math.Min(schema["maximum"]?.GetValue<double>() ?? 100, 100);
                return JsonValue.Create(min + d.Int(0, (int)Math.Max(0, max - min)));
            case "number":
                var top = schema["maximum"]?.GetValue<double>() ?? 100_000;
                return JsonValue.Create(d.Chance(0.5) ? (decimal)d.Int(0, (int)Math.Min(top, 100_000)) : d.One([0.5m, 12.5m, 93.6m, 0.81m]));
            case "boolean":
                return JsonValue.Create(d.Chance(0.5));
            default:
                return JsonValue.Create(ValidString(schema, name, d));
        }
    }

    string ValidString(JsonObject schema, string name, Draw d)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        switch (ApiDescription.Format(schema))
        {
            case "date":
                // Dates a caller reports (reportedOn, closedOn, issuedOn) lie before the test clock's today (2025-06-15).
                var month = name.EndsWith("On", StringComparison.Ordinal) ? d.Int(1, 5) : d.Int(1, 12);
                return new DateOnly(2025, month, d.Int(1, 28)).ToString("yyyy-MM-dd", inv);
            case "date-time": return $"2025-0{d.Int(1, 6)}-0{d.Int(1, 9)}T0{d.Int(0, 9)}:00:00Z";
            case "uri": return $"https://www.hainan.gov.cn/doc/{d.Int(1, 9999)}.html";
            case "uuid": return Guid.NewGuid().ToString();
        }
        if (KnownStrings(name) is { Count: > 0 } known) return d.One(known);
        if (IsPeriodName(name, schema)) return d.One(["2025-09", "2025-06", "2025-Q2", "2025", "2024-12"]);
        if (schema["pattern"] is not null) return $"FZ{d.Int(0, 999_999)}";
        var text = d.One(Phrases) + (d.Chance(0.5) ? d.Int(1, 999).ToString(inv) : "");
        var maxLength = schema["maxLength"]?.GetValue<int>() ?? 200;
        return text.Length > maxLength ? text[..maxLength] : text;
    }

    IReadOnlyList<string>? KnownStrings(string name) => name switch
    {
        "round" => keys.Rounds,
        "ownerUnit" or "leadUnit" or "inspectedUnit" or "unit" or "unitSubtree" or "reporters" or "parent" => keys.Units,
        "indicator" or "numerator" or "denominator" => keys.Indicators,
        _ => null,
    };

    IReadOnlyList<long>? KnownLongs(string name) => name switch
    {
        "issueId" or "parentId" or "issue" or "issues" or "parent" => keys.Issues,
        "measure" or "measures" => keys.Measures,
        _ => null,
    };

    static bool IsPeriodName(string name, JsonObject schema)
        => name.Contains("period", StringComparison.OrdinalIgnoreCase) || (name is "from" or "to" && ApiDescription.Format(schema) is null);

    CsvDraft ValidCsv(Draw d)
    {
        var csv = new CsvDraft();
        var withComment = d.Chance(0.7);
        csv.Lines.Add([.. (withComment ? "indicator,unit,period,value,comment" : "indicator,unit,period,value").Split(',')
            .Select(Encoding.UTF8.GetBytes)]);
        var rows = d.Int(1, 4);
        for (var i = 0; i < rows; i++)
        {
            var indicator = keys.Indicators.Count > 0 ? d.One(keys.Indicators) : "LOTTERY-SALES";
            var period = keys.IndicatorFrequency.GetValueOrDefault(indicator) switch
            {
                "quarterly" => $"2025-Q{d.Int(1, 2)}",
                "yearly" => "2024",
                _ => $"2025-0{d.Int(1, 5)}",
            };
            var unit = keys.Units.Count > 0 ? d.One(keys.Units) : "460000";
            var value = d.One(["12.5", "100", "0", "21530", "0.81"]);
            var fields = new List<byte[]> { Csv.Field(indicator), Csv.Field(unit), Csv.Field(period), Csv.Field(value) };
            if (withComment) fields.Add(Csv.Field(d.Chance(0.5) ? "" : d.One(Phrases)));
            csv.Lines.Add(fields);
        }
        csv.Endings = d.Chance(0.5) ? "\r\n" : "\n";
        return csv;
    }

    // ---------------------------------------------------------------- where a hostile value goes

    /// <summary>A place for one value: a body field, a CSV column, a query parameter or a path parameter.</summary>
    sealed record Slot(string Where, string Name, JsonObject Schema, JsonObject? Container = null, List<byte[]>? Row = null, int Column = -1)
    {
        public string Type => ApiDescription.MainType(Schema);
        public bool IsNumeric => Type is "integer" or "number" || Name is "value" or "limit" || Name.EndsWith("Id", StringComparison.Ordinal)
            || Name == "id";
        public bool IsText => Type == "string" && ApiDescription.Format(Schema) is null;
        public bool IsDate => ApiDescription.Format(Schema) is "date" or "date-time" || Name.EndsWith("Date", StringComparison.Ordinal)
            || Name.EndsWith("On", StringComparison.Ordinal);
        public bool IsPeriod => IsPeriodName(Name, Schema);
    }

    List<Slot> Slots(Draft draft, Draw d)
    {
        var slots = new List<Slot>();
        var op = draft.Operation;
        if (draft.Json is not null && op.TakesJson)
        {
            var bodySchema = api.Resolve(op.Bodies["application/json"]);
            var (container, schema) = draft.Json switch
            {
                JsonObject obj => (obj, bodySchema),
                JsonArray { Count: > 0 } array when array[d.Int(0, array.Count - 1)] is JsonObject element =>
                    (element, api.Resolve(bodySchema["items"])),
                _ => ((JsonObject?)null, bodySchema),
            };
            if (container is not null)
                foreach (var (name, propertySchema) in ApiDescription.Properties(schema))
                    slots.Add(new Slot("body", name, api.Resolve(propertySchema), container));
        }
        if (draft.Csv is { Lines.Count: > 1 } csv)
        {
            var row = csv.Lines[d.Int(1, csv.Lines.Count - 1)];
            string[] columns = ["indicator", "unit", "period", "value", "comment"];
            for (var i = 0; i < Math.Min(row.Count, columns.Length); i++)
                slots.Add(new Slot("csv", columns[i], new JsonObject { ["type"] = i == 3 ? "number" : "string" }, Row: row, Column: i));
        }
        foreach (var p in op.In("query")) slots.Add(new Slot("query", p.Name, api.Resolve(p.Schema)));
        foreach (var p in op.In("path")) slots.Add(new Slot("path", p.Name, api.Resolve(p.Schema)));
        return slots;
    }

    void Place(Draft draft, Draw d, Hostile value, Func<Slot, bool> preferred)
    {
        var slots = Slots(draft, d);
        var fitting = slots.Where(preferred).ToList();
        var slot = fitting.Count > 0
            && d.Chance(0.85) ? d.One(fitting) : slots.Count > 0 ? d.One(slots) : new Slot("query", "fuzz", new JsonObject());
        Put(draft, d, slot, value);
    }

    void Put(Draft draft, Draw d, Slot slot, Hostile value)
    {
        switch (slot.Where)
        {
            case "body":
                slot.Container![slot.Name] = draft.Splice(value.ToJson());
                draft.Note($"body {slot.Name} = {value.Label}");
                break;
            case "csv":
                slot.Row![slot.Column] = value.ToCsv();
                draft.Note($"csv column {slot.Name} = {value.Label}");
                break;
            case "query":
                draft.Query.RemoveAll(q => q.Name == slot.Name);
                draft.Query.Add((slot.Name, ForUrl(value, keepSlashes: false)));
                draft.Note($"query {slot.Name} = {value.Label}");
                break;
            case "path":
                draft.PathValues[slot.Name] = ForUrl(value, keepSlashes: d.Chance(0.3));
                draft.FreshETag = FreshETag.None;
                draft.Note($"path {slot.Name} = {value.Label}");
                break;
        }
    }

    /// <summary>A value for a URL, cut so that the URL stays within what a URI can hold (a server refuses longer request lines anyway).</summary>
    static string ForUrl(Hostile value, bool keepSlashes)
    {
        var encoded = value.ToUrl(keepSlashes);
        if (encoded.Length <= MaxUrlValue) return encoded;
        var cut = encoded[..MaxUrlValue];
        var percent = cut.LastIndexOf('%');
        return percent >= MaxUrlValue - 2 ? cut[..percent] : cut;
    }

    // ---------------------------------------------------------------- the kinds

    void ChineseAndEmoji(Draft draft, Draw d)
    {
        // Half the time: a text field filled exactly to its maxLength (and one past it) with characters outside the BMP,
        // where counting UTF-16 units, code points and bytes disagree.
        var slots = Slots(draft, d).Where(s => s.Where == "body" && s.IsText && s.Schema["maxLength"] is not null).ToList();
        if (slots.Count > 0 && d.Chance(0.5))
        {
            var slot = d.One(slots);
            var max = slot.Schema["maxLength"]!.GetValue<int>();
            var length = max + d.Int(0, 1);
            var unit = d.One(["中", "𠜎", "😀"]);
            var text = string.Concat(Enumerable.Repeat(unit, length));
            Put(draft, d, slot, new Hostile($"{length} × '{unit}' (maxLength {max})", Text: text));
            return;
        }
        Place(draft, d, d.From(HostileValues.ChineseAndEmoji), s => s.IsText);
    }

    void WrongTypes(Draft draft, Draw d)
    {
        if (draft.Json is not null && d.Chance(0.3))
        {
            string[] whole = draft.Json is JsonArray
                ? ["{}", "{\"values\":5}", "{\"values\":{}}", "{\"values\":[1,\"a\",null,[]]}", "[1,2,3]", "[[]]", "{\"other\":[]}",
                    "{\"values\":[],\"extra\":1}", "\"text\"", "42", "null", "{\"values\":null}", "[null]"]
                : ["[]", "\"text\"", "42", "true", "null", "[{}]", "[[]]", "-0", "\"{}\""];
            var replacement = d.One(whole);
            draft.Replace(Encoding.UTF8.GetBytes(replacement), "whole body = " + replacement);
            return;
        }
        if (draft.Csv is { Lines.Count: > 1 } csv)
        {
            var row = csv.Lines[d.Int(1, csv.Lines.Count - 1)];
            var value = d.One(["abc", "1,5", "12%", "¥12", "1 000", "true", "", "١٢", "12.5.5", "0x1A", "1_000", "(12)", "12-", "∞"]);
            row[Math.Min(3, row.Count - 1)] = Csv.Field(value);
            draft.Note($"csv value = {HostileValues.Show(value)}");
            return;
        }
        var slots = Slots(draft, d);
        var body = slots.Where(s => s.Where == "body").ToList();
        if (body.Count > 0)
        {
            var slot = d.One(body);
            var token =
                d.One(HostileValues.WrongTypeTokens.Where(t => JsonType(t) != slot.Type && !(JsonType(t) == "integer" && slot.Type == "number"))
                .ToList());
            Put(draft, d, slot, new Hostile("wrong type " + token, RawJson: token));
            return;
        }
        var typed = slots.Where(s => s.Type is "integer" or "boolean" or "number" || ApiDescription.EnumValues(s.Schema).Count > 0).ToList();
        var target = typed.Count > 0 ? d.One(typed) : slots.Count > 0
            ? d.One(slots) : new Slot("query", "limit", new JsonObject { ["type"] = "integer" });
        var text = target.Type == "boolean"
            ? d.One(["yes", "1", "maybe", "", "TRUE ", "null", "[]"]) : d.One(["abc", "1.5", "true", "[]", "{}", "null", "", "1,2", "0x10", "1e3"]);
        Put(draft, d, target, new Hostile("wrong type " + HostileValues.Show(text), Text: text));
    }

    static string JsonType(string token) => token[0] switch
    {
        '"' => "string",
        '[' => "array",
        '{' => "object",
        't' or 'f' => "boolean",
        'n' => "null",
        _ => token.Contains('.', StringComparison.Ordinal) ? "number" : "integer",
    };

    void MalformedJson(Draft draft, Draw d)
    {
        var body = draft.BodyBytes();
        var text = Encoding.UTF8.GetString(body);
        var choice = d.Int(0, 16);
        (byte[] bytes, string label) = choice switch
        {
            0 => (Bytes(ReplaceFirst(text, ":", "=")), "= instead of :"),
            1 => (body[..^1], "last byte dropped"),
            2 => (Insert(body, d.Int(0, body.Length), Encoding.UTF8.GetBytes(d.One(["{", "}", "[", "]", ",", ":", "\"", "\\"]))),
                "stray structural character"),
            3 => (DeleteAt(body, body.Length == 0 ? 0 : d.Int(0, body.Length - 1)), "one byte deleted"),
            4 => (Bytes(text.Length > 1 ? text[..^1] + ",}" : ",}"), "trailing comma"),
            5 => (Bytes(text.Replace('"', '\'')), "single quotes"),
            6 => (Bytes(UnquotedKeys().Replace(text, "$1:")), "unquoted keys"),
            7 => (Bytes(d.One(["/* comment */", "// comment\n", "# comment\n"]) + text), "comment"),
            8 => (Bytes(d.One(["NaN", "undefined", "{", "[", "}", "]", "nul", "tru", "\"", "\"unterminated", "{\"a\":}", "{,}", "[,]", ",", ":", "",
                "  \n\t ", "{}}", "[]]", "{\"\":", "<a/>", "key=value&x=1", "{\"values\":[{\"indicator\":"])), "not JSON at all"),
            9 => ([.. body, .. body], "two documents"),
            10 => ([0xEF, 0xBB, 0xBF, .. body], "UTF-8 BOM"),
            11 => (Bytes(ReplaceFirst(text, ":\"", ":\"\\x41\\u12")), "invalid escapes"),
            12 => ([0x00, 0x01, .. body], "leading NUL"),
            13 => ([.. body, .. "garbage"u8.ToArray()], "trailing garbage"),
            14 => (Bytes(ReplaceFirst(text, ":\"", ":\"a\"b")), "unescaped quote"),
            15 => (Bytes(ReplaceFirst(text, ":\"", ":\"a\u0001\n")), "raw control characters in a string"),
            _ => (Encoding.Unicode.GetBytes(text), "UTF-16 body"),
        };
        draft.Replace(bytes, label);
    }

    static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    static string ReplaceFirst(string text, string find, string with)
    {
        var at = text.IndexOf(find, StringComparison.Ordinal);
        return at < 0 ? with + text : text[..at] + with + text[(at + find.Length)..];
    }

    static byte[] Insert(byte[] body, int at, byte[] what) => [.. body[..at], .. what, .. body[at..]];

    static byte[] DeleteAt(byte[] body, int at) => body.Length == 0 ? body : [.. body[..at], .. body[(at + 1)..]];

    [GeneratedRegex("\"([A-Za-z_][A-Za-z0-9_]*)\":")]
    private static partial Regex UnquotedKeys();

    void Truncated(Draft draft, Draw d)
    {
        var body = draft.BodyBytes();
        var at = body.Length <= 1 ? 0 : d.Chance(0.1) ? 0 : d.Int(1, body.Length - 1);
        draft.Replace(body[..at], $"cut after {at} of {body.Length} bytes");
    }

    void DuplicateKeys(Draft draft, Draw d)
    {
        var target = draft.Json switch
        {
            JsonObject obj => obj,
            JsonArray array => array.OfType<JsonObject>().FirstOrDefault(),
            _ => null,
        };
        if (target is null)
        {
            draft.Replace("{\"a\":1,\"a\":2}"u8.ToArray(), "duplicate keys in an object where none is expected");
            return;
        }
        var body = draft.BodyBytes();
        var open = Array.IndexOf(body, (byte)'{');
        var names = target.Select(p => p.Key).ToList();
        string insert;
        string label;
        if (names.Count == 0)
        {
            insert = "\"note\":\"a\",\"note\":\"b\"";
            label = "note twice";
        }
        else
        {
            var name = d.One(names);
            var key = d.Chance(0.25) ? char.ToUpperInvariant(name[0]) + name[1..] : name;
            var value = d.Int(0, 2) switch
            {
                0 => target[name]?.ToJsonString(Writer) ?? "null",
                1 => "\"other value\"",
                _ => d.One(HostileValues.WrongTypeTokens),
            };
            insert = $"\"{key}\":{value},";
            label = $"{key} twice (second {HostileValues.Show(value)})";
        }
        draft.Replace(Insert(body, open + 1, Bytes(insert)), label);
    }

    void DeepNesting(Draft draft, Draw d)
    {
        var depth = d.One([65, 100, 129, 200, 500, 1_000, 10_000, 100_000]);
        var nested = d.Int(0, 2) switch
        {
            0 => new string('[', depth) + new string(']', depth),
            1 => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth),
            _ => string.Concat(Enumerable.Repeat("[{\"a\":", depth / 2)) + "null" + string.Concat(Enumerable.Repeat("}]", depth / 2)),
        };
        var slots = Slots(draft, d).Where(s => s.Where == "body").ToList();
        if (slots.Count > 0 && d.Chance(0.6))
        {
            var slot = d.One(slots);
            slot.Container![slot.Name] = draft.Splice(Bytes(nested));
            draft.Note($"body {slot.Name} nested {depth} deep");
        }
        else
        {
            draft.Replace(Bytes(nested), $"whole body nested {depth} deep");
        }
    }

    void Oversized(Draft draft, Draw d)
    {
        // Kestrel refuses bodies over 1 MB outside the push (the in-memory server does not): just over that, and some
        // well over it; the push takes up to 512 MB, so it gets the large ones.
        var size = draft.Operation.TakesCsv
            ? d.From(Gen.Frequency((6, Gen.Int[1 << 20, 4 << 20]), (2, Gen.Const(8 << 20)), (1, Gen.Const(30 << 20))))
            : d.From(Gen.Frequency((8, Gen.Int[1 << 20, 3 << 20]), (1, Gen.Const(8 << 20))));
        var mb = $"{size / (1024.0 * 1024):0.0} MB";
        if (draft.Csv is not null)
        {
            if (d.Chance(0.4))
            {
                var row = draft.Csv.Lines[^1];
                row[^1] = Bytes(new string('x', Math.Min(size, 3 << 20)));
                draft.Note($"csv field of {Math.Min(size, 3 << 20)} bytes");
            }
            else
            {
                // Many rows, each naming an indicator that does not exist: refused as a whole (atomic), nothing written.
                draft.Query.RemoveAll(q => q.Name is "atomic" or "dryRun");
                draft.Replace(Repeated("indicator,unit,period,value,comment\r\n"u8,
                    Bytes($"NO-SUCH-INDICATOR-{d.Int(0, 99)},460000,2025-09,1,{new string('备', 10)}\r\n"), ""u8, size),
                    $"{mb} of CSV rows for an unknown indicator");
            }
            return;
        }
        var slots = Slots(draft, d).Where(s => s.Where == "body").ToList();
        switch (d.Int(0, 3))
        {
            case 0 when slots.Count > 0:
                var slot = d.One(slots);
                slot.Container![slot.Name] = draft.Splice(JsonText.Quote(new string('a', size)));
                draft.Note($"body {slot.Name} = {mb} string");
                break;
            case 1:
                var body = draft.BodyBytes();
                var padded = new byte[size + body.Length];
                padded.AsSpan(0, size).Fill((byte)' ');
                body.CopyTo(padded, size);
                draft.Replace(padded, $"{mb} of whitespace before the body");
                break;
            case 2:
                var element = draft.Json is JsonArray
                    ? Bytes("{\"indicator\":\"NO-SUCH-INDICATOR\",\"unit\":\"460000\",\"period\":\"2025-09\",\"value\":1},")
                    : [.. draft.BodyBytes(), (byte)','];
                var many = Repeated("["u8, element, "{}]"u8, size);
                draft.Query.RemoveAll(q => q.Name is "atomic" or "dryRun");
                draft.Replace(many, $"{mb} array of copies");
                break;
            default:
                var keysBody = new StringBuilder(size + 32).Append('{');
                for (var i = 0; keysBody.Length < size; i++) keysBody.Append(System.Globalization.CultureInfo.InvariantCulture, $"\"k{i}\":0,");
                keysBody[^1] = '}';
                draft.Replace(Bytes(keysBody.ToString()), $"{mb} object of unknown keys");
                break;
        }
    }

    /// <summary><paramref name="head"/>, then <paramref name="unit"/> as often as it takes to reach <paramref name="size"/> bytes, then <paramref
    /// name="tail"/>.</summary>
    static byte[] Repeated(ReadOnlySpan<byte> head, byte[] unit, ReadOnlySpan<byte> tail, int size)
    {
        var count = Math.Max(1, (size - head.Length) / unit.Length + 1);
        var bytes = new byte[head.Length + count * unit.Length + tail.Length];
        head.CopyTo(bytes);
        for (var i = 0; i < count; i++) unit.CopyTo(bytes, head.Length + i * unit.Length);
        tail.CopyTo(bytes.AsSpan(head.Length + count * unit.Length));
        return bytes;
    }

    void WrongContentType(Draft draft, Draw d)
    {
        if (draft.Operation.TakesCsv && d.Chance(0.3))
        {
            // The other format's body under this one's content type.
            if (draft.Csv is not null)
            {
                var csv = draft.BodyBytes();
                draft.Csv = null;
                draft.Replace(csv, "CSV body sent as application/json");
                draft.SetContentType("application/json");
            }
            else
            {
                draft.Replace(draft.BodyBytes(), "JSON body sent as text/csv");
                draft.SetContentType("text/csv");
            }
            return;
        }
        string?[] types =
        [
            "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=----fuzz",
                "application/json; charset=utf-16",
            "application/json; charset=latin1", "application/json; charset=nonsense", "application/json;;;", "application/", "/", "*/*", "", null,
                "text/csv",
            "application/problem+json", "application/merge-patch+json", "APPLICATION/JSON", "application/json; charset=\"utf-8\"", "text/json",
            "application/vnd.api+json", "application/json; charset=utf-32", "text/csv; charset=utf-16", "text/csv; charset=gbk", "text/html",
                "image/png",
            "application/octet-stream", "中文/类型", "application/json\u0001", "application/json; boundary=x; charset=utf-8; q=0",
                "text/csv; header=absent",
        ];
        var type = d.One(types);
        draft.Replace(draft.BodyBytes(), "Content-Type " + (type is null ? "(none)" : HostileValues.Show(type)));
        draft.SetContentType(type);
    }

    static readonly string[] HostileIds =
    [
        "0", "-1", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999", "1e3", "1.0", "0x1F", "%2B1",
        "%201", "1%20", "%EF%BC%91", "%D9%A3", "abc", "NaN", "null", "-0", "1%00", "%00", "2147483648", "1,2", "1;2",
    ];

    static readonly string[] HostileCodes =
    [
        "..", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "%252e%252e%252f", "%00", "a%00b", "%E4%B8%AD%E6%96%87", "%F0%9F%98%80", "%27%20OR%201%3D1%20--",
        "%25", "%ZZ", "%C3%28", "%FF", "%ED%A0%80", "a%2Fb", "%20", "%09", "a%3Bb", "a%3Fb", "*", "%2A", "%E3%80%80", "%EF%BB%BF", "%C0%AF", "~",
            "%7E",
        "HN-8-6-6%00", "HN-8-6-6%20", "hn-8-6-6", "HN-8-6-6.json", "%22%3E%3Cscript%3E", "CON", "NUL", "%5C..%5C..",
    ];

    void HostilePath(Draft draft, Draw d)
    {
        var parameters = draft.Operation.In("path").ToList();
        foreach (var p in parameters.Where(_ => parameters.Count == 1 || d.Chance(0.6)))
        {
            var integer = ApiDescription.MainType(api.Resolve(p.Schema)) == "integer";
            var real = draft.PathValues[p.Name];
            var value = d.Int(0, 9) switch
            {
                < 5 => d.One(integer ? HostileIds : HostileCodes),
                < 7 => d.One(integer ? HostileCodes : HostileIds),
                7 => real + d.One(["%00", "%20", ".json", "%2F", "%2F..", "'", "%27--", "%0A", "%FF"]),
                8 => new string('9', d.One([20, 100, 5_000])),
                _ => Url.Encode(d.One(["' OR 1=1 --", "../../etc/passwd", "海南省", "😀", "\u0000", "%00", " "])),
            };
            draft.PathValues[p.Name] = value;
            draft.Note($"path {p.Name} = {HostileValues.Show(value)}");
        }
        draft.FreshETag = FreshETag.None;
    }

    void HostileQuery(Draft draft, Draw d)
    {
        var op = draft.Operation;
        var parameters = op.In("query").ToList();
        var actions = d.Int(1, 3);
        for (var i = 0; i < actions; i++)
        {
            var choice = d.Int(0, 9);
            if (choice < 5 && parameters.Count > 0)
            {
                var p = d.One(parameters);
                var value = HostileQueryValue(op, p, d);
                draft.Query.RemoveAll(q => q.Name == p.Name);
                draft.Query.Add((p.Name, value));
                draft.Note($"query {p.Name} = {HostileValues.Show(Uri.UnescapeDataString(value))}");
            }
            else if (choice < 6 && parameters.Count > 0)
            {
                var p = d.One(parameters);
                draft.Query.Add((p.Name, ValidQueryValue(op, p, d) is { } v ? Url.Encode(v) : "1"));
                draft.Query.Add((p.Name, HostileQueryValue(op, p, d)));
                draft.Note($"query {p.Name} given twice");
            }
            else if (choice < 7)
            {
                var (name, value) =
                    d.One([("foo", "bar"), ("__proto__", "1"), ("%24where", "1"), ("LIMIT", "abc"), ("limit%5B%5D", "1"), ("", "x"), ("%00", "1"),
                    ("a", "")]);
                draft.Query.Add((name, value));
                draft.Note($"unknown query parameter {HostileValues.Show(name)}");
            }
            else
            {
                var raw = d.One(["%", "%ZZ", "&&&", "=", "a=%E4%B8", "==&==", "%26%3D", "limit=%", "?", "#fragment", new string('&', 10_000),
                    "x=" + new string('y', 16_000), "q=%FF%FE"]);
                draft.Query.Add((raw, null));
                draft.Note($"raw query {HostileValues.Show(raw)}");
            }
        }
    }

    string HostileQueryValue(ApiOperation op, ApiParameter p, Draw d)
    {
        var schema = api.Resolve(p.Schema);
        if (p.Name == "cursor" && d.Chance(0.8)) return Url.Encode(TamperedCursor(op, d));
        if (d.Chance(0.3))
        {
            var any = d.From(Gen.OneOf(HostileValues.SqlAndPath, HostileValues.ControlCharacters, HostileValues.InvalidUtf8,
                HostileValues.ChineseAndEmoji,
                HostileValues.HugeNumbers, HostileValues.InvalidPeriods, HostileValues.BadDates));
            return ForUrl(any, keepSlashes: false);
        }
        string[] values = ApiDescription.EnumValues(schema).Count > 0
            ? ["OPEN", "open ", "1", "-1", "", "in_progress,closed", "Closed", "99", "null", "%00"]
            : ApiDescription.MainType(schema) switch
            {
                "integer" =>
                    ["0", "-1", "201", "2147483648", "-2147483649", "1e400", "1.5", "0x10", "", "%201", "%EF%BC%91", "9223372036854775808", "NaN",
                    "1e3"],
                "boolean" => ["yes", "TRUE", "1", "", "null", "on", "%00"],
                _ => ApiDescription.Format(schema) switch
                {
                    "date" or "date-time" =>
                        ["0001-01-01", "9999-12-31", "2025-02-30", "2025-13-01", "0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-14:00", "",
                        "now"],
                    _ => ["", "%20", "' OR 1=1 --", "%00", new string('x', 10_000), "*", "%", "%25", "_", "2025-13", "2025-Q5"],
                },
            };
        return d.One(values);
    }

    string TamperedCursor(ApiOperation op, Draw d)
    {
        var real = keys.CursorFor(op.Path) ?? Cursor("1");
        return d.Int(0, 21) switch
        {
            0 => real + "A",
            1 => real[..^1],
            2 => real.ToUpperInvariant(),
            3 => "!!!",
            4 => "====",
            5 => " ",
            6 => Cursor("-1"),
            7 => Cursor("99999999999999999999999"),
            8 => Cursor("' OR 1=1 --"),
            9 => Cursor(new string('9', 5_000)),
            10 => Convert.ToBase64String(Encoding.UTF8.GetBytes("k2:1")),
            11 => Cursor(""),
            12 => Cursor("\u0000"),
            13 => Cursor("1|x|y"),
            14 => Cursor("a,b,c,d,e"),
            15 => Cursor("1e400"),
            16 => Convert.ToBase64String([.. "k1:"u8.ToArray(), 0xFF, 0xFE]),
            17 => Cursor("中文"),
            18 => Cursor("2025-13"),
            19 => Cursor("HN-8-6-6\u0001"),
            20 => Convert.ToBase64String(Encoding.UTF8.GetBytes("k1:" + Cursor("1"))) + "+/=",
            _ => new string('A', 20_000),
        };
    }

    static string Cursor(string key) => Convert.ToBase64String(Encoding.UTF8.GetBytes("k1:" + key)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    void HostileHeaders(Draft draft, Draw d)
    {
        var count = d.Int(1, 2);
        for (var i = 0; i < count; i++)
        {
            switch (d.Int(0, 5))
            {
                case 0 or 1:
                    draft.FreshETag = FreshETag.None;
                    if (draft.Operation.Has("header", "If-Match") && d.Chance(0.35))
                    {
                        draft.FreshETag = d.One([FreshETag.Weak, FreshETag.ExactThenGarbage, FreshETag.GarbageThenExact]);
                        draft.Note($"If-Match {draft.FreshETag}");
                        break;
                    }
                    var ifMatch =
                        d.One(["*", "\"\"", "W/\"1\"", "\"abc\"", "garbage", "\"", "\"unterminated", "W/", "\"1\", \"2\"",
                        "\"" + new string('9', 10_000) + "\"",
                        "\"中文\"", "\"\u0001\"", "null", "0", "\"-1\"", "W/\"\"", " ", "\"" + new string('9', 300) + "\"", "\"2147483648\"", "\"1\"",
                            "\"0\"",
                        "*, \"1\"", "\"1\" \"2\"", ",,,", "\"\\\"\"", "\"+1\"", "\" 1\"", "\"1e3\""]);
                    draft.SetHeader("If-Match", ifMatch);
                    draft.Note($"If-Match {HostileValues.Show(ifMatch)}");
                    break;
                case 2 or 3:
                    var key = d.One(["", " ", new string('k', 201), new string('k', 10_000), "中文键", "key\twith\ttab", "\u0001", "' OR 1=1 --",
                        "../../etc/passwd", "%00", "fuzz-reused-key", "fuzz-reused-key", "\u007f", "é"]);
                    draft.SetHeader("Idempotency-Key", key);
                    draft.Note($"Idempotency-Key {HostileValues.Show(key)}");
                    break;
                case 4:
                    var accept = d.One(["application/xml", "text/csv", "*/*", "text/html", "application/json;q=0", "garbage;;", "text/csv;q=abc",
                        "application/problem+json", "", "text/*", "image/png", "application/json, text/csv;q=0.9", "text/csv;q=1.5", "text/csv;q=-1",
                        "application/json;q=0, text/csv;q=0", "中文", "\u0001", new string('a', 10_000)]);
                    draft.SetHeader("Accept", accept);
                    draft.Note($"Accept {HostileValues.Show(accept)}");
                    break;
                default:
                    var (name, value) = d.One([("Content-Encoding", "gzip"), ("Content-Encoding", "br"), ("X-HTTP-Method-Override", "DELETE"),
                        ("X-Forwarded-For", "' OR 1=1 --"), ("Range", "bytes=0-1"), ("If-None-Match", "*"), ("Cookie", new string('c', 8_000)),
                        ("Accept-Charset", "utf-16"), ("Accept-Language", "zh-CN;q=abc"), ("Authorization", ""), ("Authorization", "Bearer"),
                        ("Authorization", "Bearer garbage"), ("Authorization", "Basic dXNlcjpwYXNz"),
                            ("Authorization", "Bearer " + new string('k', 10_000)),
                        ("Authorization", "Bearer 中文"), ("Authorization", "Bearer ' OR 1=1 --"), ("Authorization", "Bearer \u0001"),
                            ("Authorization", "Bearer  ")]);
                    draft.SetHeader(name, value);
                    draft.Note($"{name}: {HostileValues.Show(value)}");
                    break;
            }
        }
    }

    void WrongMethod(Draft draft, Draw d)
    {
        var defined = api.MethodsByPath[draft.Operation.Path];
        var others = AllMethods.Where(m => !defined.Contains(m)).ToList();
        draft.Method = d.One(others);
        draft.Note($"method {draft.Method} on a path that takes {string.Join(", ", defined)}");
        if (!draft.Operation.HasBody && d.Chance(0.5)) draft.Replace("{}"u8.ToArray(), "with a JSON body", "application/json");
    }

    static CsvDraft CsvOf(Draft draft) => draft.Csv ?? throw new InvalidOperationException("A CSV kind on an operation that takes no CSV.");

    void CsvRagged(Draft draft, Draw d)
    {
        var csv = CsvOf(draft);
        var rows = csv.Lines;
        var row = rows[d.Int(1, rows.Count - 1)];
        switch (d.Int(0, 13))
        {
            case 0:
                var drop = Math.Min(row.Count - 1, d.Int(1, 3));
                row.RemoveRange(row.Count - drop, drop);
                draft.Note($"{drop} fields missing from a row");
                break;
            case 1: row.AddRange(Enumerable.Range(0, d.Int(1, 8)).Select(i => Bytes($"extra{i}"))); draft.Note("extra fields in a row"); break;
            case 2: rows.Insert(d.Int(1, rows.Count),
                [.. Enumerable.Repeat(Array.Empty<byte>(), d.Int(2, 9))]); draft.Note("a row of only commas"); break;
            case 3: rows.Insert(d.Int(1, rows.Count), []); rows.Insert(d.Int(1, rows.Count), []); draft.Note("empty lines"); break;
            case 4: rows.Insert(d.Int(1, rows.Count), [Bytes("LOTTERY-SALES")]); draft.Note("a one-field row"); break;
            case 5: rows.RemoveRange(1, rows.Count - 1); draft.Note("header only"); break;
            case 6: rows.RemoveAt(0); draft.Note("no header"); break;
            case 7: rows[0] = [.. "indicator,unit,period,value,comment,extra".Split(',').Select(Bytes)]; draft.Note("header with six columns"); break;
            case 8: rows[0] = [.. "unit,indicator,period,value".Split(',').Select(Bytes)]; draft.Note("header reordered"); break;
            case 9: rows[0] = [.. "indicator,unit,period".Split(',').Select(Bytes)]; draft.Note("header of three columns"); break;
            case 10: rows[0] =
                [.. " INDICATOR , Unit ,period,VALUE,comment ".Split(',').Select(Bytes)]; draft.Note("header in other case with spaces"); break;
            case 11:
                for (var i = 0; i < 1_000; i++) rows.Add([.. Enumerable.Repeat(Bytes("x"), i % 9)]);
                draft.Note("1000 ragged rows");
                break;
            case 12: row.AddRange(Enumerable.Repeat(Bytes("1"), 10_000)); draft.Note("a row of 10000 fields"); break;
            default: rows[0] = []; draft.Note("empty header line"); break;
        }
    }

    void CsvBadQuoting(Draft draft, Draw d)
    {
        var csv = CsvOf(draft);
        var line = d.Chance(0.15) ? 0 : d.Int(1, csv.Lines.Count - 1);
        var row = csv.Lines[line];
        var column = d.Int(0, row.Count - 1);
        var (field, label) = d.Int(0, 11) switch
        {
            0 => ("\"unclosed", "unclosed quote"),
            1 => ("a\"b", "quote inside an unquoted field"),
            2 => ("\"a\"b", "text after the closing quote"),
            3 => ("\"a\"\"", "unclosed after an escaped quote"),
            4 => ("\"", "a lone quote"),
            5 => ("\"a\nb\"", "line break inside quotes"),
            6 => ("\"\"\"\"", "an escaped quote only"),
            7 => ("'single'", "single quotes"),
            8 => ("\"2025-09\" ", "space after the closing quote"),
            9 => (" \"2025-09\"", "space before the opening quote"),
            10 => ("\"" + new string('x', 2 << 20), "unclosed quote over 2 MB"),
            _ => ("\"a\r\n" + "LOTTERY-SALES,460000", "quote swallowing the next row"),
        };
        row[column] = Bytes(field);
        draft.Note($"{label} (line {line + 1}, column {column + 1})");
    }

    void CsvBom(Draft draft, Draw d)
    {
        var csv = CsvOf(draft);
        byte[] utf8Bom = [0xEF, 0xBB, 0xBF];
        switch (d.Int(0, 10))
        {
            case 0: csv.Prefix = utf8Bom; draft.Note("UTF-8 BOM"); break;
            case 1: csv.Prefix = [.. utf8Bom, .. utf8Bom]; draft.Note("two UTF-8 BOMs"); break;
            case 2: csv.LinePrefix = utf8Bom; draft.Note("a BOM before every line"); break;
            case 3: csv.Prefix = [0xFF, 0xFE]; draft.Note("UTF-16 LE BOM before UTF-8 text"); break;
            case 4: draft.Replace([0xFF, 0xFE, .. Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(csv.ToBytes()))],
                "whole body UTF-16 LE with BOM"); break;
            case 5: draft.Replace([0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes(Encoding.UTF8.GetString(csv.ToBytes()))],
                "whole body UTF-16 BE with BOM"); break;
            case 6: csv.Prefix = [0xFF, 0xFE, 0x00, 0x00]; draft.Note("UTF-32 LE BOM before UTF-8 text"); break;
            case 7:
                var row = csv.Lines[d.Int(1, csv.Lines.Count - 1)];
                var column = d.Int(0, row.Count - 1);
                row[column] = [.. utf8Bom, .. row[column]];
                draft.Note($"BOM inside field {column + 1}");
                break;
            case 8: draft.Replace(utf8Bom, "a BOM and nothing else"); break;
            case 9: draft.Replace(Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(csv.ToBytes())), "UTF-16 LE without BOM"); break;
            default: draft.Replace([0x2B, 0x2F, 0x76, 0x38, .. csv.ToBytes()], "UTF-7 BOM"); break;
        }
    }

    void CsvLineEndings(Draft draft, Draw d)
    {
        var csv = CsvOf(draft);
        string[] endings = ["\r\n", "\n", "\r", "\n\r", "\r\r\n", "\u2028", "\f", "\v", "\u0085", "\0"];
        var mixed = Enumerable.Range(0, csv.Lines.Count).Select(_ => d.Chance(0.6) ? d.One(endings[..3]) : d.One(endings)).ToList();
        csv.EndingsByLine = mixed;
        if (d.Chance(0.3)) csv.FinalEnding = false;
        if (d.Chance(0.2)) csv.Trailer = Bytes(string.Concat(Enumerable.Repeat(d.One(endings), d.Int(2, 50))));
        draft.Note("line endings " + string.Join(" ", mixed.Select(e => HostileValues.Show(e)))
            + (csv.FinalEnding ? "" : ", none after the last line"));
    }

    // ---------------------------------------------------------------- the draft

    sealed class Draft(ApiOperation operation)
    {
        readonly List<string> _notes = [];
        readonly Dictionary<string, byte[]> _splices = new(StringComparer.Ordinal);
        byte[]? _body;
        bool _contentTypeSet;
        string? _contentType;

        public ApiOperation Operation => operation;
        public string Method { get; set; } = operation.Method;
        public Dictionary<string, string> PathValues { get; } = new(StringComparer.Ordinal);
        /// <summary>Encoded names and values; a null value puts the name in as it is (a raw, broken query fragment).</summary>
        public List<(string Name, string? Value)> Query { get; } = [];
        public List<KeyValuePair<string, string>> Headers { get; } = [];
        public JsonNode? Json { get; set; }
        public CsvDraft? Csv { get; set; }
        public FreshETag FreshETag { get; set; }

        public void Note(string note) => _notes.Add(note);

        public void SetHeader(string name, string value)
        {
            Headers.RemoveAll(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase));
            Headers.Add(new(name, value));
        }

        public void SetContentType(string? type)
        {
            _contentTypeSet = true;
            _contentType = type;
        }

        /// <summary>A placeholder for a JSON value whose bytes are put in as they are when the body is written.</summary>
        public JsonNode Splice(byte[] raw)
        {
            var marker = $"{Marker}{_splices.Count}@@";
            _splices[marker] = raw;
            return JsonValue.Create(marker);
        }

        /// <summary>Replaces the body with bytes; the content type stays that of the body it replaces unless given.</summary>
        public void Replace(byte[] body, string note, string? contentType = null)
        {
            if (!_contentTypeSet) SetContentType(contentType ?? DefaultContentType());
            _body = body;
            Json = null;
            Csv = null;
            Note(note);
        }

        string? DefaultContentType() =>
            Csv is not null ? "text/csv" : Json is not null ? "application/json" : _body is not null ? _contentType : null;

        public byte[] BodyBytes()
        {
            if (_body is not null) return _body;
            if (Csv is not null) return Csv.ToBytes();
            if (Json is null) return [];
            var bytes = Encoding.UTF8.GetBytes(Json.ToJsonString(Writer));
            foreach (var (marker, raw) in _splices) bytes = ReplaceBytes(bytes, Encoding.UTF8.GetBytes($"\"{marker}\""), raw);
            return bytes;
        }

        static byte[] ReplaceBytes(byte[] source, byte[] find, byte[] with)
        {
            var at = source.AsSpan().IndexOf(find);
            return at < 0 ? source : [.. source[..at], .. with, .. source[(at + find.Length)..]];
        }

        public FuzzRequest Finish(FuzzKind kind, ulong seed)
        {
            var path = PathParameter().Replace(operation.Path, m => PathValues.GetValueOrDefault(m.Groups[1].Value, "1"));
            var query = string.Join("&", Query.Select(q => q.Value is null ? q.Name : $"{q.Name}={q.Value}"));
            var hasBody = _body is not null || Json is not null || Csv is not null;
            var body = hasBody ? BodyBytes() : null;
            var contentType = _contentTypeSet ? _contentType : DefaultContentType();
            // The ETag is read from the resource itself: the path up to and including the first parameter.
            var segments = operation.Path.Split('/');
            var first = Array.FindIndex(segments, s => s.StartsWith('{'));
            var etagSource = first < 0 ? null : PathParameter()
                .Replace(string.Join('/', segments[..(first + 1)]), m => PathValues.GetValueOrDefault(m.Groups[1].Value, "1"));
            return new FuzzRequest
            {
                Kind = kind, Operation = operation, Seed = seed, Method = Method, Url = path + (query.Length > 0 ? "?" + query : ""),
                Headers = Headers, Body = body, ContentType = contentType, FreshETag = FreshETag, ETagSource = etagSource,
                Detail = _notes.Count == 0 ? "" : string.Join("; ", _notes),
            };
        }
    }

    [GeneratedRegex("\\{([^}]+)\\}")]
    private static partial Regex PathParameter();

    /// <summary>A CSV body as lines of fields, so that the kinds can break it in one place.</summary>
    sealed class CsvDraft
    {
        public List<List<byte[]>> Lines { get; } = [];
        public string Endings { get; set; } = "\r\n";
        public List<string>? EndingsByLine { get; set; }
        public bool FinalEnding { get; set; } = true;
        public byte[] Prefix { get; set; } = [];
        public byte[] LinePrefix { get; set; } = [];
        public byte[] Trailer { get; set; } = [];

        public byte[] ToBytes()
        {
            using var bytes = new MemoryStream();
            bytes.Write(Prefix);
            for (var i = 0; i < Lines.Count; i++)
            {
                bytes.Write(LinePrefix);
                for (var f = 0; f < Lines[i].Count; f++)
                {
                    if (f > 0) bytes.WriteByte((byte)',');
                    bytes.Write(Lines[i][f]);
                }
                if (i < Lines.Count - 1 || FinalEnding) bytes.Write(Encoding.UTF8.GetBytes(EndingsByLine?[i] ?? Endings));
            }
            bytes.Write(Trailer);
            return bytes.ToArray();
        }
    }
}
