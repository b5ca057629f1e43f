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
    /// An export operation: 200 is text/csv only, described as text with <paramref name="example"/>. The paging
    /// parameters of the list it exports (limit, cursor) are left out: an export is every selected row.
    /// </summary>
    public static RouteHandlerBuilder ProducesCsv(this RouteHandlerBuilder builder, string description, string example)
        => builder.Produces<string>(StatusCodes.Status200OK, MediaType)
            .WithCsvResponse(description, example)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                foreach (var paging in operation.Parameters?.Where(p => p.In == ParameterLocation.Query && IsPaging(p.Name)).ToList() ?? [])
                    operation.Parameters!.Remove(paging);
                return Task.CompletedTask;
            });

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
