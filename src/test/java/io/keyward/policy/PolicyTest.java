package io.keyward.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** config/policy.yaml, config/policy.schema.json and the bad-*.yaml fixtures agree with the validator. */
final class PolicyTest {

    private static final Path FIXTURES = Path.of("src/test/resources/policy");
    private static final Schema SCHEMA = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
            .getSchema(read(Path.of("config/policy.schema.json")));

    @Test
    void examplePolicy_loads_andMatchesTheSchema() throws Exception {
        Policy p = Policy.load(Path.of("config/policy.yaml"));

        assertThat(p.secrets()).extracting(Policy.SecretPolicy::id)
                .containsExactly("payments-db", "billing-api-key", "docbits-eu-key", "docbits-us-key", "session-signing");
        assertThat(p.secret("payments-db").orElseThrow().grace()).isEqualTo(Duration.ofHours(4));
        assertThat(p.secret("session-signing").orElseThrow().retry().attempts()).isEqualTo(5);
        assertThat(p.secret("billing-api-key").orElseThrow().generator())
                .isEqualTo(new Policy.GeneratorSpec.Issued("api_key", "billing-api"));
        assertThat(schemaErrors(Path.of("config/policy.yaml"))).isEmpty();
    }

    static Stream<Arguments> fixtures() throws Exception {
        return Files.readAllLines(FIXTURES.resolve("expectations.tsv")).stream()
                .filter(l -> !l.startsWith("#") && !l.isBlank())
                .map(l -> l.split("\t"))
                .map(f -> Arguments.of(f[0], f[1], f[2], f[3]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void badPolicy_isRejected_atItsPlace(String fixture, String schema, String lineColumn, String message) {
        Path file = FIXTURES.resolve(fixture);
        assertThatThrownBy(() -> Policy.load(file))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems()).anySatisfy(p -> {
                    assertThat(p.mark()).hasToString(file + ":" + lineColumn);
                    assertThat(p.message() + (p.fix() == null ? "" : " (" + p.fix() + ")")).contains(message);
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void badPolicy_isRejectedByTheSchema_unlessItsRuleIsBeyondJsonSchema(String fixture, String schema, String lc,
                                                                        String message) {
        boolean rejected = schemaRejects(FIXTURES.resolve(fixture));
        if (schema.equals("rejects")) {
            assertThat(rejected).as(fixture + " should fail policy.schema.json").isTrue();
        } else {
            assertThat(schema).isEqualTo("semantic");
            assertThat(rejected).as(fixture + " is marked semantic but the schema rejects it: mark it 'rejects'").isFalse();
        }
    }

    @Test
    void thereIsOneFixturePerRule_andAtLeastForty() throws Exception {
        List<String> listed = fixtures().map(a -> (String) a.get()[0]).toList();
        try (Stream<Path> files = Files.list(FIXTURES)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("bad-")))
                    .containsExactlyInAnyOrderElementsOf(listed);
        }
        assertThat(listed).hasSizeGreaterThanOrEqualTo(40).doesNotHaveDuplicates();
    }

    @Test
    void manyProblems_areReportedTogether() {
        String yaml = String.join("\n",
                "secrets:",
                "  - id: a",
                "    path: x",
                "    generator: { type: random, lenght: 20 }",
                "    shedule: { every: 1d }",
                "  - id: a",
                "    path: x",
                "    generator: { type: random }",
                "    schedule: { every: 5s }",
                "");
        assertThatThrownBy(() -> Policy.parse("p.yaml", yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("p.yaml:4:32: unknown key 'lenght'")
                .hasMessageContaining("p.yaml:5:5: unknown key 'shedule'")
                .hasMessageContaining("p.yaml:2:5: secret 'a' has no schedule")
                .hasMessageContaining("p.yaml:6:9: secret id 'a' is used twice")
                .hasMessageContaining("p.yaml:7:11: two secrets on one Vault path secret/x")
                .hasMessageContaining("p.yaml:9:24: secret 'a': every 5s is shorter than 1m");
    }

    private static boolean schemaRejects(Path yaml) {
        try {
            return !schemaErrors(yaml).isEmpty();
        } catch (RuntimeException e) {
            return true; // not even YAML: no editor would accept it either
        }
    }

    private static List<com.networknt.schema.Error> schemaErrors(Path yaml) {
        JsonNode doc = YAMLMapper.builder().build().readTree(read(yaml));
        return SCHEMA.validate(doc == null || doc.isMissingNode() ? tools.jackson.databind.node.NullNode.getInstance() : doc);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
