using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rectify.Api.Infrastructure.Http;

/// <summary>
/// States and kinds in bodies are exactly one documented snake_case name. The built-in string enum converter also
/// reads <c>RECTIFYING</c>, <c> rectifying</c> and comma-joined names (<c>inspecting,rectifying</c>, read as the
/// bitwise union, which is some other state): a typo would silently become a different state.
/// </summary>
public sealed class StrictEnumConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
        => (JsonConverter)Activator.CreateInstance(typeof(StrictEnumConverter<>).MakeGenericType(typeToConvert))!;
}

public sealed class StrictEnumConverter<T> : JsonConverter<T> where T : struct, Enum
{
    static readonly Dictionary<string, T> ByName = Enum.GetValues<T>().ToDictionary(EnumText.Format, StringComparer.Ordinal);

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => reader.TokenType == JsonTokenType.String && reader.GetString() is { } text && ByName.TryGetValue(text, out var value)
            ? value
            : throw new UnknownEnumNameException(ByName.Keys);

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(EnumText.Format(value));
}

/// <summary>A state or kind that is not one of the documented names; the problem lists the names.</summary>
public sealed class UnknownEnumNameException(IEnumerable<string> names) : JsonException
{
    public IReadOnlyList<string> Names { get; } = names.ToArray();
}
