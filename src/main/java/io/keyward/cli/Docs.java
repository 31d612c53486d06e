package io.keyward.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The manual page keyward(1) and the bash completion, both made from the command tree the
 * command line runs, so neither can drift from it. The package build runs
 * {@code Docs <folder>}; it writes {@code keyward.1.gz} and {@code keyward.bash-completion}.
 */
public final class Docs {

    private Docs() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Docs FOLDER (writes keyward.1.gz and keyward.bash-completion there)");
            System.exit(ExitCode.USAGE.code);
        }
        Path dir = Files.createDirectories(Path.of(args[0]));
        CommandLine cli = Cli.commandLine(new Cli.Context(System.out, System.err, Map.of(), System.in));
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dir.resolve("keyward.1.gz")))) {
            out.write(manPage(cli).getBytes(StandardCharsets.UTF_8));
        }
        Files.writeString(dir.resolve("keyward.bash-completion"), AutoComplete.bash("keyward", cli), StandardCharsets.UTF_8);
    }

    /** keyward(1) in man(7) roff: every visible command with its synopsis, description, options and arguments. */
    static String manPage(CommandLine cli) {
        CommandSpec top = cli.getCommandSpec();
        StringBuilder m = new StringBuilder();
        m.append(".TH KEYWARD 1 \"\" \"keyward ").append(Cli.version()).append("\" \"User Commands\"\n");
        m.append(".SH NAME\nkeyward \\- ").append(roff(lowerFirst(String.join(" ", top.usageMessage().description()))))
                .append('\n');
        m.append(".SH SYNOPSIS\n.B keyward\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGUMENTS\\fR]\n");
        m.append(".SH DESCRIPTION\n").append(roff(String.join(" ", top.usageMessage().description()))).append('\n');
        m.append(".PP\nThese options are taken by every command; \\fBkeyward\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR "
                + "prints the usage of that command.\n");
        options(m, top);
        m.append(".SH COMMANDS\n");
        for (CommandLine sub : visible(cli)) command(m, sub);
        // The footer's lines are wrapped for a terminal; here each "Exit codes:" or "Environment:" is a paragraph.
        StringBuilder footer = new StringBuilder();
        for (String line : top.usageMessage().footer()) {
            if (line.isBlank()) continue;
            if (line.matches("[A-Z][a-z ]+: .*") && footer.length() > 0) footer.append("\n.PP\n");
            else if (footer.length() > 0) footer.append(' ');
            footer.append(roff(line));
        }
        m.append(".SH \"EXIT STATUS AND ENVIRONMENT\"\n").append(footer).append('\n');
        m.append(".SH FILES\n");
        file(m, "/etc/keyward/keyward.yaml", "the agent configuration (KEYWARD_CONFIG names another)");
        file(m, "/etc/keyward/policy.yaml", "the rotation policy, unless the configuration names another");
        file(m, "/var/lib/keyward", "state.dir: the ledger of what this host delivered");
        file(m, "/usr/share/doc/keyward/examples", "an example configuration, policy, JSON Schema, dashboard and alert rules");
        m.append(".SH \"SEE ALSO\"\n.BR systemctl (1),\n.BR bao (1),\n.BR vault (1)\n");
        return m.toString();
    }

    private static List<CommandLine> visible(CommandLine cli) {
        List<CommandLine> out = new ArrayList<>();
        for (CommandLine sub : cli.getSubcommands().values()) {
            if (sub.getCommandSpec().usageMessage().hidden() || out.contains(sub)) continue;
            out.add(sub);
        }
        return out;
    }

    private static void command(StringBuilder m, CommandLine cli) {
        CommandSpec spec = cli.getCommandSpec();
        String synopsis = new CommandLine.Help(spec, CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF))
                .synopsis(0).strip().replaceAll("\\s+", " ");
        m.append(".SS \"").append(roff(synopsis).replace("\"", "\\(dq")).append("\"\n");
        for (String paragraph : spec.usageMessage().description()) m.append(roff(paragraph)).append("\n.PP\n");
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (p.hidden()) continue;
            m.append(".TP\n\\fI").append(roff(p.paramLabel())).append("\\fR\n")
                    .append(roff(String.join(" ", p.description()))).append('\n');
        }
        options(m, spec);
        for (CommandLine sub : visible(cli)) command(m, sub);
    }

    private static void options(StringBuilder m, CommandSpec spec) {
        for (OptionSpec o : spec.options()) {
            if (o.hidden() || o.inherited()) continue; // -h, -v and -V are listed once, under DESCRIPTION
            m.append(".TP\n");
            List<String> names = new ArrayList<>();
            for (String n : o.names()) names.add("\\fB" + roff(n) + "\\fR");
            m.append(String.join(", ", names));
            if (!o.typeInfo().isBoolean() && o.arity().max() > 0) {
                m.append("=\\fI").append(roff(o.paramLabel())).append("\\fR");
            }
            m.append('\n').append(roff(String.join(" ", o.description()))).append('\n');
        }
    }

    private static void file(StringBuilder m, String path, String what) {
        m.append(".TP\n.I ").append(roff(path)).append('\n').append(roff(what)).append('\n');
    }

    /** Text as roff takes it: backslashes and hyphens escaped, no line taken for a request. */
    static String roff(String text) {
        // picocli's %n is a line break in its help texts.
        String s = text.replace("%n", "\n").replace("%%", "%").strip().replace("\\", "\\e").replace("-", "\\-");
        StringBuilder out = new StringBuilder();
        for (String line : s.split("\n", -1)) {
            if (out.length() > 0) out.append('\n');
            if (line.startsWith(".") || line.startsWith("'")) out.append("\\&");
            out.append(line);
        }
        return out.toString();
    }

    private static String lowerFirst(String s) {
        String first = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        int dot = first.indexOf(". ");
        if (dot > 0) first = first.substring(0, dot);
        return first.isEmpty() ? first : Character.toLowerCase(first.charAt(0)) + first.substring(1);
    }
}
