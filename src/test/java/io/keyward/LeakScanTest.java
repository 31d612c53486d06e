package io.keyward;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.LeakScanner;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs in its own surefire execution after every other test (see pom.xml), and once more after the
 * tests of the built jar: every secret value the suite created must be absent, raw and base64,
 * from every log, audit and output file it wrote.
 */
final class LeakScanTest {

    @Test
    void suiteOutput_holdsNoTrackedSecret() throws Exception {
        List<String> secrets = Leaks.tracked();
        assertThat(secrets).as("secrets registered by the suite (did the other tests run first?)").hasSizeGreaterThan(10);

        Path target = TestDirs.target();
        List<Path> read = new ArrayList<>(List.of(TestDirs.logs(), target.resolve("surefire-reports")));
        // after `package` it runs again, over what the tests of the built jar wrote too
        if (Files.isDirectory(target.resolve("surefire-reports-package"))) read.add(target.resolve("surefire-reports-package"));
        LeakScanner.Report report = LeakScanner.scan(read, secrets,
                List.of(target.resolve("surefire-reports-leak-scan"), target.resolve("surefire-reports-leak-scan-package")));

        assertThat(report.files()).as("files scanned").isGreaterThan(5);
        assertThat(report.hits()).as("secret values found in what the suite wrote").isEmpty();
        System.out.printf("leak scan: %d secrets, %d files, %d bytes, %d hits%n",
                secrets.size(), report.files(), report.bytes(), report.hits().size());
    }
}
