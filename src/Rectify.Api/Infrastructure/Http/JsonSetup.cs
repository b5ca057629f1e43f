using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rectify.Api.Infrastructure.Http;

public static class JsonSetup
{
    /// <summary>
    /// Strict JSON in and out: numbers are numbers (never strings, which would also make every generated client's
    /// number type "number or string"), unknown and duplicate fields are refused rather than ignored (a field the
    /// server owns cannot be smuggled in), nulls respect the contracts' nullability, states are snake_case strings,
    /// instants carry their offset (<see cref="Instants"/>).
    /// </summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.AllowDuplicateProperties = false;
        options.RespectNullableAnnotations = true;
        options.RespectRequiredConstructorParameters = true;
        options.MaxDepth = 32;
        // Chinese text stays readable in answers; HTML-significant characters are still escaped.
        options.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Create(System.Text.Unicode.UnicodeRanges.All);
        options.Converters.Add(new StrictEnumConverterFactory());
        options.Converters.Add(new InstantConverterFactory());
    }
}
