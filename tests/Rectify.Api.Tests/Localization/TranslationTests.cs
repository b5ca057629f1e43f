using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Tests.Localization;

/// <summary>
/// Every word a problem says exists in Chinese too: the title of every problem type, every message template in the code
/// (refusals, problems, the mapper's own, field messages) and what every validation attribute says. A new English message
/// without a translation still answers (in English), but fails here, naming it and where it is.
/// </summary>
public sealed class TranslationTests
{
    [Fact]
    public void Every_problem_type_has_a_title_in_english_and_chinese()
    {
        var untitled = MessageTemplates.ProblemTypeNames.Where(type => ProblemTypes.Title(type) is null).ToList();
        Assert.True(untitled.Count == 0, "Problem types without a title in ProblemTypes.Title: " + string.Join(", ", untitled));
        var untranslated = MessageTemplates.ProblemTypeNames.Select(type => ProblemTypes.Title(type)!.Template)
            .Where(title => MessageTemplates.Chinese(title) is null).ToList();
        Assert.True(untranslated.Count == 0, Missing(untranslated.Select(t => new MessageTemplates.Template(t, "ProblemTypes.Title"))));
    }

    [Fact]
    public void Every_message_template_in_the_code_has_a_chinese_translation_with_the_same_holes()
    {
        Assert.True(MessageTemplates.InCode.Count > 100,
            $"The scan found only {MessageTemplates.InCode.Count} templates: it no longer sees the code.");
        Assert.Contains(MessageTemplates.InCode, t => t.Value == "No {0} '{1}' exists.");
        AssertTranslated(MessageTemplates.InCode);
    }

    [Fact]
    public void Every_validation_attribute_says_its_message_in_chinese_too()
    {
        var said = MessageTemplates.OfValidationAttributes().ToList();
        Assert.Contains(said, t => t.Value == "{0} must be between {1} and {2}.");
        AssertTranslated(said);
    }

    [Fact]
    public void Every_message_is_known_before_it_runs()
    {
        // A string variable made into a Text cannot be listed, so its translation cannot be checked: pass a Text instead.
        Assert.True(MessageTemplates.Untraceable.Count == 0, "Messages built from strings the scan cannot read:\n"
            + string.Join("\n", MessageTemplates.Untraceable.Select(t => $"{t.Where}: {t.Value}")));
    }

    static void AssertTranslated(IEnumerable<MessageTemplates.Template> templates)
    {
        var missing = new List<MessageTemplates.Template>();
        var wrong = new List<string>();
        foreach (var template in templates.DistinctBy(t => t.Value))
        {
            if (MessageTemplates.Chinese(template.Value) is not { } chinese) missing.Add(template);
            else if (!MessageTemplates.Holes(chinese).SetEquals(MessageTemplates.Holes(template.Value)))
                wrong.Add($"{template.Where}: '{template.Value}' → '{chinese}'");
        }
        Assert.True(missing.Count == 0, Missing(missing));
        Assert.True(wrong.Count == 0, "Translations whose holes differ from the English:\n" + string.Join("\n", wrong));
    }

    static string Missing(IEnumerable<MessageTemplates.Template> missing)
        => "Without a Chinese translation in src/Rectify.Api/Infrastructure/Problems/ProblemText.zh.resx:\n"
            + string.Join("\n", missing.Select(t => $"{t.Where}\t{t.Value}"));
}
