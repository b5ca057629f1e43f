using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Infrastructure.Http;

/// <summary>
/// States and kinds in query strings. Minimal APIs bind an enum query parameter with a case-sensitive
/// <c>Enum.TryParse</c>: the documented snake_case values (<c>kind=county</c>, <c>state=in_progress</c>) would be
/// refused while <c>County</c>, <c>3</c> or <c>99</c> were accepted. So a filter binds as text and is parsed here,
/// exactly as the JSON bodies spell the values; the OpenAPI document still describes it with the enum's schema.
/// </summary>
public static class QueryEnums
{
    /// <summary>
    /// <paramref name="text"/> when it is exactly one documented name of <typeparamref name="T"/> (null when absent),
    /// ready to compare with the text the database stores; a 400 naming the parameter otherwise.
    /// </summary>
    public static string? Checked<T>(string? text, string parameter) where T : struct, Enum
    {
        if (string.IsNullOrEmpty(text)) return null;
        var names = Enum.GetValues<T>().Select(EnumText.Format).ToArray();
        return names.Contains(text, StringComparer.Ordinal) ? text
            : throw Problem.Validation(parameter, $"Use one of: {string.Join(", ", names)}.");
    }

    /// <summary>Describes the text query parameter <paramref name="parameter"/> with the schema of <typeparamref name="T"/>.</summary>
    public static RouteHandlerBuilder WithEnumQueryParameter<T>(this RouteHandlerBuilder builder, string parameter) where T : struct, Enum
        => builder.AddOpenApiOperationTransformer((operation, context, _) =>
        {
            foreach (var p in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
            {
                if (p.In == ParameterLocation.Query && p.Name == parameter) p.Schema = new OpenApiSchemaReference(typeof(T).Name, context.Document);
            }
            return Task.CompletedTask;
        });
}
