// io.inkseal:inkseal — the Kotlin façade, the generated UniFFI bindings (src/main/kotlin/generated,
// committed; regenerate with scripts/bindings.sh generate) and libinkseal_ffi.so per ABI
// (src/main/jniLibs, built by the cargoNdk task, not committed).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "io.inkseal"
    compileSdk = 35

    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    // src/main/kotlin is the only source root: it already contains generated/ (adding that
    // directory as a second root would compile the generated file twice).
    sourceSets["main"].java.srcDirs("src/main/kotlin")

    packaging {
        // 16 KB page-size devices need the .so aligned (see cargoNdk below); keep it uncompressed.
        jniLibs.useLegacyPackaging = false
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // The AAR carries JNA's own native dispatch library for every Android ABI.
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
}

// Builds libinkseal_ffi.so for the Android ABIs with cargo-ndk (cargo install cargo-ndk;
// ANDROID_NDK_HOME set; rustup target add aarch64-linux-android x86_64-linux-android
// armv7-linux-androideabi). The 16 KB page-size link flag comes from ../cargo-config.toml.
val cargoNdk by tasks.registering(Exec::class) {
    workingDir = rootProject.projectDir.parentFile
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "x86_64", "-t", "armeabi-v7a",
        "--platform", "26",
        "-o", "android/inkseal/src/main/jniLibs",
        // `rustc --crate-type cdylib`: with `build`, cargo makes the rlib too and silently
        // skips LTO (rust-lang/cargo#9672). No default features but two-party P-256 keys: no
        // sample captures, no file device keys on a phone.
        "rustc", "--locked", "--profile", "release-mobile", "-p", "inkseal-bindings", "--lib",
        "--no-default-features", "--features", "p256-cosign", "--crate-type", "cdylib",
        "--config", "android/cargo-config.toml",
    )
}

tasks.named("preBuild") { dependsOn(cargoNdk) }
