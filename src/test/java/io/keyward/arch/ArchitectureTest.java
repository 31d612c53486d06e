package io.keyward.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The package rules of DESIGN.md, checked on the compiled classes. */
final class ArchitectureTest {

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.keyward");

    @Test
    void rotationCore_doesNoIo_andKnowsNoAdapter() {
        noClasses().that().resideInAPackage("io.keyward.rotation..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "io.keyward.vault..", "io.keyward.audit..", "io.keyward.daemon..", "io.keyward.cli..",
                        "io.keyward.fleet..", "io.keyward.schedule..", "io.keyward.target..", "io.keyward.docbits..",
                        "java.net..", "java.nio.file..", "java.nio.channels..",
                        "org.quartz..", "io.micrometer..", "ch.qos.logback..", "org.slf4j..", "tools.jackson..")
                .check(CLASSES);
    }

    @Test
    void policy_usesOnlyTheJdkAndJackson() {
        noClasses().that().resideInAPackage("io.keyward.policy..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "io.keyward.vault..", "io.keyward.audit..", "io.keyward.daemon..", "io.keyward.cli..",
                        "io.keyward.rotation..", "ch.qos.logback..")
                .check(CLASSES);
    }

    @Test
    void fleet_usesOnlyTheRotationCore() {
        noClasses().that().resideInAPackage("io.keyward.fleet..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "io.keyward.vault..", "io.keyward.audit..", "io.keyward.daemon..", "io.keyward.cli..",
                        "io.keyward.schedule..", "io.keyward.target..", "io.keyward.docbits..")
                .check(CLASSES);
    }

    @Test
    void onlyTheCli_decidesExitCodes() {
        noClasses().that().resideOutsideOfPackage("io.keyward.cli..")
                .should().callMethod(System.class, "exit", int.class)
                .check(CLASSES);
    }
}
