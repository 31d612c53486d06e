package io.keyward.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The alert rules under Prometheus' own tools: {@code promtool check rules} and the unit tests
 * in {@code config/monitoring/prometheus-alerts.test.yml} ({@code promtool test rules}), which
 * must make every alert fire on series of its situation and stay silent at least once.
 */
final class AlertRulesTest {

    private static final Path DIR = Path.of("config/monitoring");

    @Test
    void promtool_checksTheRules_andEveryAlertsUnitTestsPass() throws Exception {
        Result check = promtool("check", "rules", "prometheus-alerts.yml");
        assertThat(check.code()).as(check.output()).isZero();
        assertThat(check.output()).contains("SUCCESS");

        Result test = promtool("test", "rules", "prometheus-alerts.test.yml");
        assertThat(test.code()).as(test.output()).isZero();
        assertThat(test.output()).contains("SUCCESS").doesNotContain("FAILED");
    }

    @Test
    void everyAlert_hasACaseWhereItFires_andOneWhereItDoesNot() throws IOException {
        Set<String> alerts = matches(Files.readString(DIR.resolve("prometheus-alerts.yml")), "- alert: (\\S+)");
        String tests = Files.readString(DIR.resolve("prometheus-alerts.test.yml"));
        Set<String> silent = matches(tests, "alertname: (\\w+), exp_alerts: \\[\\]");
        Set<String> firing = matches(tests, "alertname: (\\w+)\\n\\s+exp_alerts:\\n\\s+- exp_labels");
        assertThat(alerts).hasSizeGreaterThanOrEqualTo(9);
        assertThat(firing).as("alerts with a case where they fire").containsExactlyInAnyOrderElementsOf(alerts);
        assertThat(silent).as("alerts with a case where they stay silent").containsExactlyInAnyOrderElementsOf(alerts);
    }

    private static Set<String> matches(String text, String regex) {
        Set<String> out = new LinkedHashSet<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) out.add(m.group(1));
        return out;
    }

    private record Result(int code, String output) {}

    private static Result promtool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("promtool"));
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(DIR.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool is not installed (Debian's prometheus package; `.ci/run` installs it)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }
}
