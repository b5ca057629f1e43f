using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Rectify.Api.Infrastructure.Problems;
using Sylvan.Data.Csv;

namespace Rectify.Api.Features.DataValues;

/// <summary>One row of a push as the caller sent it, before it is checked. <see cref="Problem"/> is set when it could not even be read.</summary>
readonly record struct RawRow(
    long Row, string? Indicator, string? Unit, string? Period, string? Value, string? Comment, RowRejection? Problem = null)
{
    /// <summary>A row that could not be read, for <paramref name="reason"/>.</summary>
    public static RawRow Unread(long row, string field, Text reason) => new(row, null, null, null, null, null, new RowRejection(row, field, reason));
}

/// <summary>
/// Reads a push body row by row as it arrives, in CSV or JSON, never holding the whole body: a row that cannot
/// be read becomes a rejected row; a body that cannot be read at all (wrong header, broken JSON, not UTF-8) is a 400.
/// </summary>
static class ImportReaders
{
    public const string CsvHeader = "indicator,unit,period,value,comment";
    const int MaxFieldBytes = 1 << 20;

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static async IAsyncEnumerable<RawRow> ReadCsvAsync(Stream body, [EnumeratorCancellation] CancellationToken ct)
    {
        using var text = new StreamReader(body, StrictUtf8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        var options = new CsvDataReaderOptions { HasHeaders = false, Delimiter = ',', BufferSize = 1 << 16, MaxBufferSize = MaxFieldBytes };
        await using var csv = await Guard(() => CsvDataReader.CreateAsync(text, options, ct));
        if (!await Guard(() => csv.ReadAsync(ct))) throw EmptyBody();
        var columns = ReadHeader(csv);
        while (await Guard(() => csv.ReadAsync(ct)))
        {
            var row = csv.RowNumber;
            var count = csv.RowFieldCount;
            if (count <= 1 && (count == 0 || csv.GetString(0).Length == 0)) continue; // a blank line, such as the last one
            if (count > columns)
            {
                yield return RawRow.Unread(row, "row", $"The row has {count} columns; the header has {columns}.");
                continue;
            }
            if (count < 4)
            {
                yield return RawRow.Unread(row, "row", $"The row has {count} columns; indicator, unit, period and value are needed.");
                continue;
            }
            yield return new RawRow(row, csv.GetString(0), csv.GetString(1), csv.GetString(2), csv.GetString(3), count > 4 ? csv.GetString(4) : null);
        }
    }

    static int ReadHeader(CsvDataReader csv)
    {
        var names = Enumerable.Range(0, csv.RowFieldCount)
            .Select(i => csv.GetString(i).Trim().TrimStart('\uFEFF').ToLowerInvariant()).ToArray();
        var expected = CsvHeader.Split(',');
        var fits = names.Length is 4 or 5 && names.SequenceEqual(expected.Take(names.Length));
        return fits ? names.Length : throw Refuse.Invalid("body", $"The first line must be the header '{CsvHeader}' (comment may be left out).");
    }

    /// <summary>A CSV that breaks the format (an unclosed quote, a field over 1 MB) or text that is not UTF-8 is a 400, not a 500.</summary>
    static async Task<T> Guard<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e is CsvFormatException or DecoderFallbackException)
        {
            throw Unreadable(e is DecoderFallbackException
                ? "The body is not valid UTF-8 text."
                : "The CSV is malformed (an unclosed quote, or a field over 1 MB).");
        }
    }

    public static async IAsyncEnumerable<RawRow> ReadJsonAsync(Stream body, JsonSerializerOptions options,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            var parser = new JsonRowParser(options);
            var filled = 0;
            var final = false;
            var rows = new List<RawRow>();
            while (!final)
            {
                if (filled == buffer.Length)
                {
                    // One row does not fit: grow, up to a bound, rather than read an unbounded object.
                    if (buffer.Length >= MaxFieldBytes) throw Unreadable("A value in the JSON array is larger than 1 MB.");
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await body.ReadAsync(buffer.AsMemory(filled), ct);
                final = read == 0;
                filled += read;
                var consumed = parser.Parse(buffer.AsSpan(0, filled), final, rows);
                foreach (var row in rows) yield return row;
                rows.Clear();
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
            if (!parser.SawBody) throw EmptyBody();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static Refusal EmptyBody()
        => Refuse.Invalid("body", "The body is empty: send a CSV with a header row, a JSON array of values, or an object with values.");

    public static Refusal Unreadable(Text message) => Refuse.Invalid("body", message);

    /// <summary>
    /// Walks <c>[ {…}, … ]</c> or <c>{ "values": [ {…}, … ] }</c> across buffers; each element is deserialised on
    /// its own, so one bad element is one rejected row and the rest are still read.
    /// </summary>
    sealed class JsonRowParser(JsonSerializerOptions options)
    {
        enum Phase { Start, InWrapper, Elements, AfterArray, Done }

        JsonReaderState _state = new(new JsonReaderOptions { MaxDepth = 16 });
        Phase _phase = Phase.Start;
        bool _wrapped;
        long _row;

        public bool SawBody { get; private set; }

        public int Parse(ReadOnlySpan<byte> data, bool final, List<RawRow> rows)
        {
            var reader = new Utf8JsonReader(data, final, _state);
            try
            {
                while (true)
                {
                    var before = reader;
                    if (!reader.Read())
                    {
                        if (final && _phase != Phase.Done && SawBody) throw Unreadable("The JSON ends before its array is closed.");
                        break;
                    }
                    SawBody = true;
                    if (!Step(ref reader, data, rows))
                    {
                        reader = before; // the element is not complete yet: read it again with more data
                        break;
                    }
                }
            }
            catch (JsonException e)
            {
                throw Unreadable($"The JSON is malformed near byte {e.BytePositionInLine ?? 0} of line {(e.LineNumber ?? 0) + 1}.");
            }
            _state = reader.CurrentState;
            return (int)reader.BytesConsumed;
        }

        bool Step(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, List<RawRow> rows)
        {
            switch (_phase)
            {
                case Phase.Start when reader.TokenType == JsonTokenType.StartArray:
                    _phase = Phase.Elements;
                    return true;
                case Phase.Start when reader.TokenType == JsonTokenType.StartObject:
                    _phase = Phase.InWrapper;
                    _wrapped = true;
                    return true;
                case Phase.InWrapper when reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("values"):
                    return true;
                case Phase.InWrapper when reader.TokenType == JsonTokenType.StartArray:
                    _phase = Phase.Elements;
                    return true;
                case Phase.Elements when reader.TokenType == JsonTokenType.EndArray:
                    _phase = _wrapped ? Phase.AfterArray : Phase.Done;
                    return true;
                case Phase.Elements:
                    return Element(ref reader, data, rows);
                case Phase.AfterArray when reader.TokenType == JsonTokenType.EndObject:
                    _phase = Phase.Done;
                    return true;
                default:
                    throw Unreadable("Send a JSON array of values, or an object whose only field is values (an array).");
            }
        }

        bool Element(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, List<RawRow> rows)
        {
            var element = reader;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip()) return false;
            // The reader checks structure, not the bytes inside strings: text that is not UTF-8 would otherwise surface
            // as "wrong type" for one field, where CSV answers a 400 for the body.
            if (!System.Text.Unicode.Utf8.IsValid(data[(int)element.TokenStartIndex..(int)reader.BytesConsumed]))
                throw Unreadable("The body is not valid UTF-8 text.");
            var row = ++_row;
            if (element.TokenType != JsonTokenType.StartObject)
            {
                rows.Add(RawRow.Unread(row, "row", "Each element must be an object with indicator, unit, period and value."));
                return true;
            }
            try
            {
                var value = JsonSerializer.Deserialize<DataValueInput>(ref element, options)!;
                var number = value.Value?.ToString(System.Globalization.CultureInfo.InvariantCulture);
                rows.Add(new RawRow(row, value.Indicator, value.Unit, value.Period, number, value.Comment));
            }
            catch (JsonException e)
            {
                var field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "row";
                Text message = e is Infrastructure.Http.UnknownEnumNameException || field == "row"
                    ? "The element is not a value: use the fields indicator, unit, period, value and comment."
                    : field == "value" ? "Not a number: send the value as a JSON number." : "The field has the wrong type: send text.";
                if (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
                    message = "Unknown field: use indicator, unit, period, value and comment.";
                rows.Add(RawRow.Unread(row, field, message));
            }
            return true;
        }
    }
}
