package io.keyward.cli;

import io.keyward.docbits.DocBitsSimulator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "docbits-simulator", hidden = true, description = {
        "Run the DocBits simulator (for demos and tests, never production): several keys per organisation, "
                + "X-API-KEY and X-ORG-ID checks, the envelope, /version, the document-type probe, key create, "
                + "revoke and usage endpoints, an integrations endpoint. Stops on Ctrl-C or SIGTERM."})
final class SimulatorCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Option(names = "--port", defaultValue = "8089", description = "Loopback port (default ${DEFAULT-VALUE}; 0 picks one).")
    int port;

    @Option(names = "--org", split = ",", defaultValue = "acme", description = "Organisations the first key may access (default ${DEFAULT-VALUE}).")
    List<String> orgs;

    @Option(names = "--key-file", required = true, description = "Where to write a first key (mode 0600), e.g. for keyward's DocBits admin key.")
    Path keyFile;

    SimulatorCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        try (DocBitsSimulator sim = DocBitsSimulator.start(port, Clock.systemUTC())) {
            Set<String> orgSet = new LinkedHashSet<>(orgs);
            String key = sim.createKey("admin", orgSet);
            Path dir = keyFile.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Files.deleteIfExists(keyFile);
            Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(keyFile, key, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
            context.out().println("DocBits simulator at " + sim.baseUrl() + " (organisations " + String.join(", ", orgSet)
                    + "); a first key is in " + keyFile);
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            stop.await();
        }
        return ExitCode.OK.code;
    }
}
