plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

android {
    namespace = "io.inkseal.sample.pad"
    compileSdk = 35

    defaultConfig {
        applicationId = "io.inkseal.sample.pad"
        // 26: java.util.Base64, adaptive Keystore AES keys; PdfRenderer and CameraX need less.
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1"
        // The ABIs libinkseal_ffi.so is built for (cargo-ndk), see README.md.
        ndk { abiFilters += listOf("arm64-v8a", "x86_64") }
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    buildFeatures { compose = true }

    // The contract to sign comes straight from the repository's test data (no copy): assets
    // are read from here too. Put the institution's public key (institution.pub.pem) in
    // src/main/assets (see README.md).
    sourceSets["main"].assets.srcDirs("src/main/assets", "../../../tests/data")
    // PdfRenderer needs a seekable file: the app copies the asset out, so keep PDFs stored.
    androidResources { noCompress += "pdf" }
}

dependencies {
    implementation(project(":inkseal"))
    // The generated bindings use JNA; on Android it is the AAR (with its libjnidispatch.so).
    // Declared here in case the library module does not export it as `api`.
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")

    implementation(platform("androidx.compose:compose-bom:2024.12.01"))
    implementation("androidx.compose.ui:ui")
    implementation("androidx.compose.foundation:foundation")
    implementation("androidx.compose.material3:material3")
    implementation("androidx.activity:activity-compose:1.9.3")
    implementation("androidx.lifecycle:lifecycle-viewmodel-compose:2.8.7")
    implementation("androidx.lifecycle:lifecycle-runtime-compose:2.8.7")

    val camerax = "1.4.1"
    implementation("androidx.camera:camera-core:$camerax")
    implementation("androidx.camera:camera-camera2:$camerax")
    implementation("androidx.camera:camera-lifecycle:$camerax")
    implementation("androidx.camera:camera-view:$camerax")
}
