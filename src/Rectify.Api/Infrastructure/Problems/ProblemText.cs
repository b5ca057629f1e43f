using System.Globalization;
using Microsoft.AspNetCore.Localization;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Rectify.Api.Infrastructure.Problems;

/// <summary>
/// The resources of the problems' words: <c>ProblemText.zh.resx</c> beside this file holds the Chinese of every English
/// template (<see cref="Text.Template"/>), keyed by the template itself. A template without a translation reads in
/// English; the localisation tests list every template and fail on one that has none.
/// </summary>
public sealed class ProblemText;

/// <summary>Which language a problem is said in: the caller's <c>Accept-Language</c>, else the configured default.</summary>
public sealed class LanguageOptions
{
    public const string Section = "Localization";

    /// <summary>The language of a request that names none (or none the service speaks): <c>en</c> or <c>zh-CN</c>.</summary>
    public string DefaultLanguage { get; set; } = "en";
}

public static class ProblemLanguages
{
    /// <summary>The languages problems are said in; <c>zh-CN</c>, <c>zh-Hans</c> and other Chinese tags fall back to <c>zh</c>.</summary>
    public static readonly IReadOnlyList<string> Supported = ["en", "zh"];

    public static IServiceCollection AddRectifyLanguages(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddLocalization();
        services.Configure<LanguageOptions>(configuration.GetSection(LanguageOptions.Section));
        services.AddOptions<RequestLocalizationOptions>().Configure<IOptions<LanguageOptions>>((options, languages) =>
        {
            // Only the language of words changes with the caller: numbers and dates are formatted as before.
            var formatting = CultureInfo.CurrentCulture;
            var fallback = Language(languages.Value.DefaultLanguage);
            options.DefaultRequestCulture = new RequestCulture(formatting, fallback);
            options.SupportedCultures = [formatting];
            options.SupportedUICultures = [.. Supported.Select(CultureInfo.GetCultureInfo)];
            options.FallBackToParentUICultures = true;
            options.ApplyCurrentCultureToResponseHeaders = false;
            // Accept-Language only: no query string or cookie chooses the language of an API.
            options.RequestCultureProviders = [new AcceptLanguageHeaderRequestCultureProvider { MaximumAcceptLanguageHeaderValuesToTry = 5 }];
        });
        return services;
    }

    /// <summary>First in the pipeline, so that the exception handler and the status code pages answer in the caller's language.</summary>
    public static WebApplication UseRectifyLanguages(this WebApplication app)
    {
        app.UseRequestLocalization();
        return app;
    }

    /// <summary>The supported language <paramref name="tag"/> falls back to (zh-CN → zh); English for one not spoken.</summary>
    static CultureInfo Language(string? tag)
    {
        for (var culture = CultureInfo.GetCultureInfo(string.IsNullOrWhiteSpace(tag) ? "en" : tag);
             !Equals(culture, CultureInfo.InvariantCulture); culture = culture.Parent)
        {
            if (Supported.Contains(culture.Name, StringComparer.OrdinalIgnoreCase)) return culture;
        }
        return CultureInfo.GetCultureInfo("en");
    }

    /// <summary><paramref name="text"/> in the language of the request (its arguments formatted as before).</summary>
    public static string Say(this HttpContext http, Text text) => text.Format(Translator(http));

    /// <summary>Translates a template into the language of the request; an unknown template stays as it is (English).</summary>
    public static Func<string, string> Translator(HttpContext http)
    {
        var words = http.RequestServices.GetService<IStringLocalizer<ProblemText>>();
        return words is null ? static template => template : template => words[template].Value;
    }

    /// <summary>The name of the language a problem of this request is said in (the Content-Language).</summary>
    public static string LanguageOf(HttpContext http)
        => (http.Features.Get<IRequestCultureFeature>()?.RequestCulture.UICulture ?? CultureInfo.CurrentUICulture).Name;
}
