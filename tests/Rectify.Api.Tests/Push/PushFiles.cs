using System.Text;

namespace Rectify.Api.Tests.Push;

/// <summary>A temporary folder of files to push, removed with the test class.</summary>
public sealed class PushFiles : IDisposable
{
    public const string Csv = """
        indicator,unit,period,value,comment
        MZ.FEE.CANCELLED,460000,2025-10,75,累计取消收费项目
        MZ.DIBAO.PERSONS,460000,2025-10,186000,
        MZ.WARNINGS,460100,2025-10,77000,10 批次

        """;

    readonly string _folder = Directory.CreateTempSubdirectory("rectify-push-tests-").FullName;

    public string Write(string name, string content) => Write(name, Encoding.UTF8.GetBytes(content));

    public string Write(string name, byte[] content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
