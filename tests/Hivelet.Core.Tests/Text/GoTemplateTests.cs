using System.Text.Json.Nodes;
using Hivelet.Errors;
using Hivelet.Text;

namespace Hivelet.Core.Tests.Text;

public sealed class GoTemplateTests
{
    private static readonly JsonNode Inspect = JsonNode.Parse("""
        {"Id":"abc123","State":{"Status":"running","Running":true,"Pid":4242,"ExitCode":0},
         "Config":{"Env":["A=1","B=2"],"Labels":{"role":"web","com.example.tier":"front"},"Cmd":null},
         "Name":"/web"}
        """)!;

    private static string Run(string template, JsonNode? data = null) => GoTemplate.Parse(template).Execute(data ?? Inspect);

    [Theory]
    [InlineData("{{.State.Status}}", "running")]
    [InlineData("{{.Id}} {{.Name}}", "abc123 /web")]
    [InlineData("{{.State.Running}}/{{.State.Pid}}", "true/4242")]
    [InlineData("{{json .Config.Env}}", "[\"A=1\",\"B=2\"]")]
    [InlineData("{{json .State.ExitCode}}", "0")]
    [InlineData("{{.Config.Env}}", "[A=1 B=2]")]
    [InlineData("{{.Config.Labels}}", "map[com.example.tier:front role:web]")]
    [InlineData("{{index .Config.Labels \"com.example.tier\"}}", "front")]
    [InlineData("{{index .Config.Env 1}}", "B=2")]
    [InlineData("{{join .Config.Env \",\"}}", "A=1,B=2")]
    [InlineData("{{.Name | upper}}", "/WEB")]
    [InlineData("{{lower (index .Config.Labels `role`)}}", "web")]
    [InlineData("{{len .Config.Env}}", "2")]
    [InlineData("{{.Config.Cmd}}", "<nil>")]
    [InlineData("{{.NoSuchField}}", "<no value>")]
    [InlineData("a\\tb\\n", "a\tb\n")]
    [InlineData("x  {{- .Id -}}  y", "xabc123y")]
    [InlineData("{{truncate .Id 3}}", "abc")]
    public void FieldsFunctionsAndTextPrintAsGoDoes(string template, string expected) => Assert.Equal(expected, Run(template));

    [Fact]
    public void JsonOfTheWholeObjectIsCompact()
    {
        var data = JsonNode.Parse("""{"ID":"1","Names":"a<b"}""");
        Assert.Equal("""{"ID":"1","Names":"a<b"}""", Run("{{json .}}", data));
    }

    // Docker's json function is Go's json.Encoder with SetEscapeHTML(false): HTML characters, DEL and
    // characters beyond the BMP stay literal; control characters use Go's short forms or lower-case \u00xx.
    [Theory]
    [InlineData("sh -c 'a > b && c < d'", "\"sh -c 'a > b && c < d'\"")]
    [InlineData("q\"b\\", "\"q\\\"b\\\\\"")]
    [InlineData("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"")]
    [InlineData("\u001b[0m\u0000", "\"\\u001b[0m\\u0000\"")]
    [InlineData("\u007f é \U0001F41D", "\"\u007f é \U0001F41D\"")]
    [InlineData("\u2028\u2029", "\"\\u2028\\u2029\"")]
    public void JsonEscapesOnlyWhatGosEncoderEscapesWithoutHtmlEscaping(string value, string expected)
    {
        var data = new JsonObject { ["Command"] = value, ["n"] = 1 };
        Assert.Equal("{\"Command\":" + expected + ",\"n\":1}", Run("{{json .}}", data));
        Assert.Equal(expected, Run("{{json .Command}}", data));
    }

    [Fact]
    public void JsonOfAParsedEscapedStringIsReEscapedAsGoWould()
    {
        var data = JsonNode.Parse("""{"a\u003cb":"x\u0026y\u001B"}""");
        Assert.Equal("""{"a<b":"x&y\u001b"}""", Run("{{json .}}", data));
    }

    [Fact]
    public void AnUnknownFieldOfATypedContextIsAnErrorNamingIt()
    {
        var data = JsonNode.Parse("""{"ID":"1"}""");
        var e = Assert.Throws<InvalidInputException>(() =>
            GoTemplate.Parse("x {{.Nope}}").Execute(data, GoTemplate.Missing.Error, "*formatter.ContainerContext"));
        Assert.Equal("template: :1:4: executing \"\" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext", e.Message);
    }

    [Fact]
    public void MethodsTakeArgumentsAndFieldsDoNot()
    {
        var data = JsonNode.Parse("""{"ID":"1"}""");
        GoTemplate.MethodCall label = (name, args) => name == "Label" && args.Count == 1 ? JsonValue.Create("v-" + GoTemplate.Print(args[0])) : null;
        Assert.Equal("v-k", GoTemplate.Parse("{{.Label \"k\"}}").Execute(data, GoTemplate.Missing.Error, "T", label));
        var e = Assert.Throws<InvalidInputException>(() => GoTemplate.Parse("{{.ID \"k\"}}").Execute(data, GoTemplate.Missing.Error, "T", label));
        Assert.Contains("can't give argument to non-function .ID", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{.ID", "template parsing error: template: :1: unclosed action")]
    [InlineData("{{nosuch .ID}}", "template parsing error: template: :1: function \"nosuch\" not defined")]
    [InlineData("{{\"open}}", "template parsing error: template: :1: unterminated quoted string")]
    public void ParseErrorsReadAsGos(string template, string message) =>
        Assert.Equal(message, Assert.Throws<InvalidInputException>(() => GoTemplate.Parse(template)).Message);

    [Fact]
    public void FieldsOfAScalarAreAnError()
    {
        var e = Assert.Throws<InvalidInputException>(() => Run("{{.Id.Foo}}"));
        Assert.Equal("template: :1:2: executing \"\" at <.Id.Foo>: can't evaluate field Foo in type string", e.Message);
    }

    [Fact]
    public void TableTextLinesUpLikeGosTabwriter()
    {
        var text = GoTemplate.AlignTabs(["CONTAINER ID\tNAMES", "0123456789ab\tweb", "x\tlong-name"]);
        Assert.Equal("CONTAINER ID   NAMES\n0123456789ab   web\nx              long-name\n", text);
        Assert.Equal("A         B\n", GoTemplate.AlignTabs(["A\tB"]));
    }

    [Fact]
    public void TablePrefixIsRecognised()
    {
        Assert.True(GoTemplate.IsTable("table {{.ID}}", out var rest));
        Assert.Equal("{{.ID}}", rest);
        Assert.False(GoTemplate.IsTable("{{.ID}}", out _));
    }
}
