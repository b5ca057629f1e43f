using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Rectify.Api.Domain;

/// <summary>
/// A message for a person, kept as an English composite-format template and its arguments (<c>No {0} '{1}' exists.</c>,
/// <c>["measure", 42]</c>) so that it can be said in the caller's language: the problem mapper looks the template up in
/// the resources (<see cref="Infrastructure.Problems.ProblemText"/>) and formats the arguments into the translation.
/// An untranslated template reads in English. Written as an interpolated string (<c>$"No {what} '{key}' exists."</c>)
/// the holes become the arguments; a plain string is a template without arguments. An argument that is itself a
/// <see cref="Text"/> (the noun in "No measure …") is translated too.
/// </summary>
[InterpolatedStringHandler]
public sealed class Text
{
    readonly StringBuilder? _building;
    readonly List<object?> _args;
    string? _template;

    /// <summary>A template with its arguments, as <see cref="string.Format(IFormatProvider, string, object?[])"/> reads them.</summary>
    public Text(string template, params object?[] args)
    {
        _template = template;
        _args = [.. args];
    }

    /// <summary>The compiler's constructor for an interpolated string.</summary>
    public Text(int literalLength, int formattedCount)
    {
        _building = new StringBuilder(literalLength + formattedCount * 4);
        _args = new List<object?>(formattedCount);
    }

    /// <summary>The English composite-format template, also the key of its translations.</summary>
    public string Template => _template ??= _building?.ToString() ?? "";

    public IReadOnlyList<object?> Args => _args;

    public void AppendLiteral(string literal) => _building!.Append(Escape(literal));

    public void AppendFormatted<T>(T value) => AppendFormatted(value, 0, null);

    public void AppendFormatted<T>(T value, string? format) => AppendFormatted(value, 0, format);

    public void AppendFormatted<T>(T value, int alignment) => AppendFormatted(value, alignment, null);

    public void AppendFormatted<T>(T value, int alignment, string? format)
    {
        _building!.Append('{').Append(_args.Count.ToString(CultureInfo.InvariantCulture));
        if (alignment != 0) _building.Append(',').Append(alignment.ToString(CultureInfo.InvariantCulture));
        if (format is not null) _building.Append(':').Append(format);
        _building.Append('}');
        _args.Add(value);
    }

    /// <summary>Text said as it is, without arguments (braces in it are text, not holes).</summary>
    public static Text Plain(string text) => new(Escape(text));

    public static implicit operator Text(string text) => Plain(text);

    /// <summary>The message with <paramref name="translate"/> applied to this template and every template among the arguments.</summary>
    public string Format(Func<string, string> translate, IFormatProvider? culture = null)
    {
        var args = _args.Select(a => a is Text text ? text.Format(translate, culture) : a).ToArray();
        return string.Format(culture ?? CultureInfo.CurrentCulture, translate(Template), args);
    }

    /// <summary>The message in English.</summary>
    public override string ToString() => Format(template => template);

    /// <summary><paramref name="items"/> one after the other with <paramref name="separator"/> between them, each translated.</summary>
    public static Text Join(Text separator, IReadOnlyList<Text> items)
    {
        var template = new StringBuilder();
        var args = new List<object?>();
        foreach (var item in items)
        {
            if (args.Count > 0) Hole(separator);
            Hole(item);
        }
        return new Text(template.ToString(), [.. args]);

        void Hole(Text text)
        {
            template.Append('{').Append(args.Count.ToString(CultureInfo.InvariantCulture)).Append('}');
            args.Add(text);
        }
    }

    /// <summary>Field messages as plain texts (their words are looked up as they are).</summary>
    public static IReadOnlyDictionary<string, Text[]>? Fields(IReadOnlyDictionary<string, string[]>? errors)
        => errors?.ToDictionary(e => e.Key, e => e.Value.Select(Plain).ToArray());

    /// <summary>The template a literal becomes: <c>{</c> and <c>}</c> doubled.</summary>
    public static string Escape(string literal) => literal.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal);
}
