using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Rectify.Api.Infrastructure.OpenApi;

/// <summary>
/// CSV bodies and answers are text, not the JSON schema the generator gives every media type of an operation:
/// describe them as strings, with a CSV example. Exports are operations of their own, whose only success is the CSV,
/// so that a generated client types the JSON operation's answer as the page alone and the export's as text.
/// </summary>
public static class CsvDocumentation
{
    const string MediaType = Http.CsvExport.MediaType;

    public static RouteHandlerBuilder WithCsvRequest(this RouteHandlerBuilder builder, string description, string example)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody?.Content?.TryGetValue(MediaType, out var csv) == true) Describe(csv, description, example);
            return Task.CompletedTask;
        });

    /// <summary>
    /// An export operation: 200 is text/csv, described as text with <paramref name="example"/>, or the same rows as an
    /// xlsx workbook (format=xlsx or an Accept that prefers it; headers=zh names the columns in Chinese). The paging
    /// parameters of the list it exports (limit, cursor) are left out: an export is every selected row.
    /// </summary>
    public static RouteHandlerBuilder ProducesCsv(this RouteHandlerBuilder builder, string description, string example)
        => builder.Produces<string>(StatusCodes.Status200OK, MediaType, XlsxMediaType)
            .WithCsvResponse(description, example)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                foreach (var paging in operation.Parameters?.Where(p => p.In == ParameterLocation.Query && IsPaging(p.Name)).ToList() ?? [])
                    operation.Parameters!.Remove(paging);
                operation.Parameters ??= [];
                operation.Parameters.Add(Choice("format", "csv (default) or xlsx: an Excel workbook of the same rows, header frozen, "
                    + "numbers as numbers, dates as dates (instants in UTC). Accept: " + XlsxMediaType + " asks for xlsx too.", "csv", "xlsx"));
                operation.Parameters.Add(Choice("headers", "en (default): the columns are named by their fields; zh: in Chinese.", "en", "zh"));
                if (operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content?.TryGetValue(XlsxMediaType, out var xlsx) == true)
                    xlsx.Schema = Binary("The same rows as one xlsx sheet, the header row frozen.");
                return Task.CompletedTask;
            });

    public const string XlsxMediaType = Http.XlsxExport.MediaType;

    /// <summary>A request body may also be an xlsx workbook, described as binary.</summary>
    public static RouteHandlerBuilder WithXlsxRequest(this RouteHandlerBuilder builder, string description)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody?.Content is { } content) content[XlsxMediaType] = new OpenApiMediaType { Schema = Binary(description) };
            return Task.CompletedTask;
        });

    /// <summary>A 200 that is an xlsx workbook, described as binary.</summary>
    public static RouteHandlerBuilder WithXlsxResponse(this RouteHandlerBuilder builder, string description)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content?.TryGetValue(XlsxMediaType, out var xlsx) == true)
                xlsx.Schema = Binary(description);
            return Task.CompletedTask;
        });

    static OpenApiSchema Binary(string description) => new() { Type = JsonSchemaType.String, Format = "binary", Description = description };

    static OpenApiParameter Choice(string name, string description, params string[] values) => new()
    {
        Name = name, In = ParameterLocation.Query, Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))] },
    };

    public static RouteHandlerBuilder WithCsvResponse(this RouteHandlerBuilder builder, string description, string example)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            foreach (var response in operation.Responses?.Where(r => r.Key.StartsWith('2')).Select(r => r.Value) ?? [])
            {
                if (response.Content?.TryGetValue(MediaType, out var csv) == true) Describe(csv, description, example);
            }
            return Task.CompletedTask;
        });

    static bool IsPaging(string? name)
        => string.Equals(name, "limit", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "cursor", StringComparison.OrdinalIgnoreCase);

    static void Describe(OpenApiMediaType media, string description, string example)
    {
        media.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = description };
        media.Example = JsonValue.Create(example);
    }
}
