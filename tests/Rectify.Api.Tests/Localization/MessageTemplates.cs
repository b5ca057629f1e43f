using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Resources;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Rectify.Api.Domain;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Tests.Localization;

/// <summary>
/// Every message template a problem can say, found from the code itself: each expression the compiler turns into a
/// <see cref="Text"/> (an interpolated string becomes its template with numbered holes, a constant its escaped text),
/// the title of each problem type, and what each validation attribute of the service says. An expression turned into a
/// <see cref="Text"/> whose words cannot be known before it runs (a string variable) is listed apart, by file and line.
/// </summary>
static class MessageTemplates
{
    public sealed record Template(string Value, string Where);

    sealed record Scan(List<Template> Templates, List<Template> Untraceable);

    static readonly Lazy<Scan> Found = new(ScanSources, LazyThreadSafetyMode.ExecutionAndPublication);

    public static IReadOnlyList<Template> InCode => Found.Value.Templates;

    public static IReadOnlyList<Template> Untraceable => Found.Value.Untraceable;

    /// <summary>The titles of the problem types: every public constant of <see cref="ProblemTypes"/>.</summary>
    public static IEnumerable<string> ProblemTypeNames => typeof(ProblemTypes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!);

    /// <summary>What every validation attribute of the service says when broken (on properties, record and handler parameters).</summary>
    public static IEnumerable<Template> OfValidationAttributes()
    {
        const BindingFlags all =
            BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in typeof(Text).Assembly.GetTypes())
        {
            var members = type.GetProperties(all).Select(p => (Where: $"{type.Name}.{p.Name}", Rules: p.GetCustomAttributes<ValidationAttribute>()))
                .Concat(type.GetConstructors(all).Cast<MethodBase>().Concat(type.GetMethods(all)).SelectMany(m => m.GetParameters())
                    .Select(p => (Where: $"{type.Name}.{p.Member.Name}({p.Name})", Rules: p.GetCustomAttributes<ValidationAttribute>())));
            foreach (var (where, rules) in members)
                foreach (var rule in rules)
                    yield return new Template(ValidationMessages.For("field", rule).Template, $"{where} [{rule.GetType().Name}]");
        }
    }

    /// <summary>The Chinese of <paramref name="template"/> in the service's resources, or null.</summary>
    public static string? Chinese(string template)
        => new ResourceManager(typeof(ProblemText).FullName!, typeof(ProblemText).Assembly).GetString(template, CultureInfo.GetCultureInfo("zh"));

    /// <summary>The holes of a composite-format template ({0}, {1:0.##}): their numbers.</summary>
    public static SortedSet<int> Holes(string template)
    {
        var holes = new SortedSet<int>();
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] != '{') continue;
            if (i + 1 < template.Length && template[i + 1] == '{') { i++; continue; }
            var end = i + 1;
            while (end < template.Length && char.IsAsciiDigit(template[end])) end++;
            if (end > i + 1) holes.Add(int.Parse(template.AsSpan(i + 1, end - i - 1), CultureInfo.InvariantCulture));
        }
        return holes;
    }

    static Scan ScanSources()
    {
        var root = Path.Combine(RepositoryRoot(), "src", "Rectify.Api");
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, f)).ToList();
        trees.Add(CSharpSyntaxTree.ParseText(GlobalUsings, parse, "GlobalUsings.cs"));
        // The framework and the packages the service is built on, as the test process loaded them; never the service itself.
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => !Path.GetFileName(p).StartsWith("Rectify.", StringComparison.Ordinal))
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("Templates", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var text = compilation.GetTypeByMetadataName(typeof(Text).FullName!) ?? throw new InvalidOperationException("Text not found in the sources.");

        var scan = new Scan([], []);
        foreach (var tree in trees)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var expression in tree.GetRoot().DescendantNodes().OfType<ExpressionSyntax>())
            {
                var info = model.GetTypeInfo(expression);
                if (SymbolEqualityComparer.Default.Equals(info.ConvertedType, text) && !SymbolEqualityComparer.Default.Equals(info.Type, text))
                    Collect(model, expression, scan);
                // (Text)"words"
                else if (expression is CastExpressionSyntax cast && SymbolEqualityComparer.Default.Equals(info.Type, text)
                         && !SymbolEqualityComparer.Default.Equals(model.GetTypeInfo(cast.Expression).Type, text))
                    Collect(model, cast.Expression, scan);
                // new Text("template", …) and Text.Plain("words")
                else if (expression is BaseObjectCreationExpressionSyntax { ArgumentList.Arguments: [var first, ..] }
                         && SymbolEqualityComparer.Default.Equals(info.Type, text)
                         && model.GetConstantValue(first.Expression) is { HasValue: true, Value: string template })
                    scan.Templates.Add(new Template(template, Where(expression)));
                else if (expression is InvocationExpressionSyntax { ArgumentList.Arguments: [var words] } plain
                         && model.GetSymbolInfo(plain).Symbol is IMethodSymbol { Name: nameof(Text.Plain) } method
                         && SymbolEqualityComparer.Default.Equals(method.ContainingType, text)
                         && model.GetConstantValue(words.Expression) is { HasValue: true, Value: string literal })
                    scan.Templates.Add(new Template(Text.Escape(literal), Where(expression)));
            }
        }
        return scan;
    }

    static void Collect(SemanticModel model, ExpressionSyntax expression, Scan scan)
    {
        while (expression is ParenthesizedExpressionSyntax parenthesized) expression = parenthesized.Expression;
        if (expression is InterpolatedStringExpressionSyntax interpolated && model.GetConversion(interpolated).IsInterpolatedStringHandler)
        {
            scan.Templates.Add(new Template(TemplateOf(model, interpolated), Where(expression)));
            return;
        }
        switch (expression)
        {
            case var _ when model.GetConstantValue(expression) is { HasValue: true, Value: string constant }:
                scan.Templates.Add(new Template(Text.Escape(constant), Where(expression)));
                break;
            case LiteralExpressionSyntax { RawKind: (int)SyntaxKind.NullLiteralExpression }:
                break;
            case ConditionalExpressionSyntax conditional:
                Collect(model, conditional.WhenTrue, scan);
                Collect(model, conditional.WhenFalse, scan);
                break;
            case SwitchExpressionSyntax choice:
                foreach (var arm in choice.Arms) Collect(model, arm.Expression, scan);
                break;
            case BinaryExpressionSyntax { RawKind: (int)SyntaxKind.CoalesceExpression } coalesce:
                Collect(model, coalesce.Left, scan);
                Collect(model, coalesce.Right, scan);
                break;
            default:
                scan.Untraceable.Add(new Template(expression.ToString(), Where(expression)));
                break;
        }
    }

    /// <summary>The template <see cref="Text"/> builds from an interpolated string: literal text escaped, holes numbered.</summary>
    static string TemplateOf(SemanticModel model, InterpolatedStringExpressionSyntax interpolated)
    {
        var template = new System.Text.StringBuilder();
        var hole = 0;
        foreach (var content in interpolated.Contents)
        {
            if (content is InterpolatedStringTextSyntax literal)
            {
                template.Append(Text.Escape(literal.TextToken.ValueText));
                continue;
            }
            var interpolation = (InterpolationSyntax)content;
            template.Append('{').Append(hole++.ToString(CultureInfo.InvariantCulture));
            if (interpolation.AlignmentClause is { } alignment)
                template.Append(',').Append(Convert.ToString(model.GetConstantValue(alignment.Value).Value, CultureInfo.InvariantCulture));
            if (interpolation.FormatClause is { } format) template.Append(':').Append(format.FormatStringToken.ValueText);
            template.Append('}');
        }
        return template.ToString();
    }

    static string Where(SyntaxNode node)
    {
        var line = node.GetLocation().GetLineSpan();
        return $"{Path.GetFileName(line.Path)}:{line.StartLinePosition.Line + 1}";
    }

    // The implicit usings of the web SDK and the project's own (Rectify.Api.csproj).
    const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Net.Http.Json;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Microsoft.AspNetCore.Builder;
        global using Microsoft.AspNetCore.Hosting;
        global using Microsoft.AspNetCore.Http;
        global using Microsoft.AspNetCore.Routing;
        global using Microsoft.Extensions.Configuration;
        global using Microsoft.Extensions.DependencyInjection;
        global using Microsoft.Extensions.Hosting;
        global using Microsoft.Extensions.Logging;
        global using Rectify.Api.Domain;
        """;

    static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(sourceFile)!);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rectify.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Rectify.sln not found above the test sources.");
    }
}
