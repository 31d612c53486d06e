package io.keyward;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.LeakScanner;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs in its own surefire execution after every other test (see pom.xml): every secret value
 * the suite created must be absent, raw and base64, from every log, audit and output file it wrote.
 */
final class LeakScanTest {

    @Test
    void suiteOutput_holdsNoTrackedSecret() throws Exception {
        List<String> secrets = Leaks.tracked();
        assertThat(secrets).as("secrets registered by the suite (did the other tests run first?)").hasSizeGreaterThan(10);

        Path target = TestDirs.target();
        LeakScanner.Report report = LeakScanner.scan(
                List.of(TestDirs.logs(), target.resolve("surefire-reports")),
                secrets,
                List.of(target.resolve("surefire-reports-leak-scan")));

        assertThat(report.files()).as("files scanned").isGreaterThan(5);
        assertThat(report.hits()).as("secret values found in what the suite wrote").isEmpty();
        System.out.printf("leak scan: %d secrets, %d files, %d bytes, %d hits%n",
                secrets.size(), report.files(), report.bytes(), report.hits().size());
    }
}
