package io.keyward.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

final class YamlLoaderTest {

    @Test
    void parse_keepsLineAndColumnOfEveryNode() throws Exception {
        YamlNode root = YamlLoader.parse("f.yaml", "a:\n  b: 1\n  c:\n    - x\n    - y\n");
        YamlNode.Mapping a = (YamlNode.Mapping) ((YamlNode.Mapping) root).values().get("a");

        assertThat(a.keys().get("b").mark()).hasToString("f.yaml:2:3");
        assertThat(a.values().get("b").mark()).hasToString("f.yaml:2:6");
        YamlNode.Sequence c = (YamlNode.Sequence) a.values().get("c");
        assertThat(c.items().get(1).mark()).hasToString("f.yaml:5:7");
        assertThat(((YamlNode.Scalar) a.values().get("b")).type()).isEqualTo(YamlNode.Scalar.Type.NUMBER);
    }

    @Test
    void mappings_keepTheOrderWritten_andFindEveryKey_smallOrLarge() throws Exception {
        StringBuilder yaml = new StringBuilder("small: { z: 1, a: 2, m: 3 }\nlarge:\n");
        for (int i = 40; i > 0; i--) yaml.append("  k").append(i).append(": ").append(i).append('\n');
        YamlNode.Mapping root = (YamlNode.Mapping) YamlLoader.parse("o.yaml", yaml.toString());

        YamlNode.Mapping small = (YamlNode.Mapping) root.values().get("small");
        assertThat(small.values().keySet()).containsExactly("z", "a", "m");
        assertThat(small.keys()).containsOnlyKeys("z", "a", "m");
        assertThat(((YamlNode.Scalar) small.values().get("a")).text()).isEqualTo("2");
        assertThat(small.values()).doesNotContainKey("b").hasSize(3);
        YamlNode.Mapping large = (YamlNode.Mapping) root.values().get("large");
        assertThat(large.values().keySet()).hasSize(40).startsWith("k40", "k39").endsWith("k1");
        assertThat(((YamlNode.Scalar) large.values().get("k17")).text()).isEqualTo("17");
        assertThat(root).isEqualTo(YamlLoader.parse("o.yaml", yaml.toString()));
    }

    @Test
    void load_refusesAnythingButARegularFile_atOnce(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path fifo = dir.resolve("policy.yaml");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();

        // A FIFO with no writer and /dev/zero would each hold a reader forever.
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertThatThrownBy(() -> YamlLoader.load(fifo)).isInstanceOf(ConfigException.class)
                    .hasMessage(fifo + ":1:1: not a regular file but a FIFO (named pipe) (give the path of the YAML file itself)");
            assertThatThrownBy(() -> YamlLoader.load(java.nio.file.Path.of("/dev/zero"))).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("/dev/zero:1:1: not a regular file but a character device");
        });
        assertThatThrownBy(() -> YamlLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(dir + ":1:1: not a regular file but a directory");
    }

    @Test
    void load_bytesThatAreNotUtf8_areNamedByLineAndByte(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("latin1.yaml");
        byte[] head = "agent: { id: a }\nx: \"caf".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] bytes = java.util.Arrays.copyOf(head, head.length + 2);
        bytes[head.length] = (byte) 0xE9; // é in Latin-1
        bytes[head.length + 1] = '"';
        java.nio.file.Files.write(file, bytes);

        assertThatThrownBy(() -> YamlLoader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessage(file + ":2:8: not UTF-8 text at byte 24 (save the file as UTF-8)");
    }

    @Test
    void parse_emptyFile_isAProblem() {
        assertThatThrownBy(() -> YamlLoader.parse("e.yaml", "")).isInstanceOf(ConfigException.class)
                .hasMessage("e.yaml:1:1: the file is empty (write at least the required settings)");
    }

    @Test
    void parse_duplicateKeys_areReportedWithBothLines() {
        assertThatThrownBy(() -> YamlLoader.parse("d.yaml", "x: 1\ny: 2\nx: 3\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("d.yaml:3:1: 'x' is given twice (first at line 1)");
    }

    @Test
    void fields_unknownKey_suggestsTheNearestKnownOne() throws Exception {
        Problems problems = new Problems();
        Fields f = Fields.of(YamlNode.class.cast(YamlLoader.parse("p.yaml", "shedule: 30d\ngrace: 1h\n")), "secret", problems)
                .orElseThrow();
        f.string("schedule");
        f.duration("grace");
        f.finish();

        assertThat(problems.list()).singleElement().hasToString(
                "p.yaml:1:1: unknown key 'shedule' in secret (did you mean 'schedule'?)");
    }

    @Test
    void fields_wrongTypes_areAllReported() throws Exception {
        Problems problems = new Problems();
        Fields f = Fields.of(YamlLoader.parse("t.yaml", "n: abc\nb: 3\nl: x\nd: 5 minutes\n"), "s", problems).orElseThrow();
        assertThat(f.integer("n", 7, 0, 10)).isEqualTo(7);
        assertThat(f.bool("b", false)).isFalse();
        assertThat(f.list("l", x -> x)).isEmpty();
        assertThat(f.duration("d")).isEmpty();
        f.finish();

        assertThat(problems.list()).extracting(Problem::toString).containsExactly(
                "t.yaml:1:4: s.n must be a whole number, not a text",
                "t.yaml:2:4: s.b must be true or false, not a number",
                "t.yaml:3:4: s.l must be a list, not a text (start each entry with '- ')",
                "t.yaml:4:4: s.d: '5 minutes' is not a duration (write a number and a unit, like 30s, 5m, 12h or 30d)");
    }

    @Test
    void fields_strings_acceptsOneOrMany() throws Exception {
        Problems problems = new Problems();
        Fields f = Fields.of(YamlLoader.parse("s.yaml", "one: a\nmany: [b, c]\n"), "s", problems).orElseThrow();
        assertThat(f.strings("one")).isEqualTo(List.of("a"));
        assertThat(f.strings("many")).isEqualTo(List.of("b", "c"));
        assertThat(problems.isEmpty()).isTrue();
    }

    @Test
    void durations_parseAndFormat() {
        assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("30d")).isEqualTo(Duration.ofDays(30));
        assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("2w")).isEqualTo(Duration.ofDays(14));
        assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
        assertThat(Durations.format(Durations.parse("3d4h5m6s7ms"))).isEqualTo("3d4h5m6s7ms");
        assertThatThrownBy(() -> Durations.parse("30")).hasMessage("'30' is not a duration");
        assertThatThrownBy(() -> Durations.parse("1h 30m")).hasMessage("'1h 30m' is not a duration");
        assertThatThrownBy(() -> Durations.parse("")).hasMessage("an empty duration");
    }
}
