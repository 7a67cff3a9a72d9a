// Android library module: the generated Kotlin bindings, the glue, and the
// native libraries built with cargo-ndk into src/main/jniLibs. Not built in
// this repository's CI (no Android SDK there); see android/README.md.
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.2.21"
}

android {
    namespace = "com.sockstatlog"
    compileSdk = 35
    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }
    sourceSets["main"].java.srcDirs(
        "../bindings/kotlin",
        "src/main/kotlin",
        "src/android/kotlin",
    )
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // The generated bindings call the native library through JNA (the @aar
    // artifact carries JNA's own Android native libraries).
    implementation("net.java.dev.jna:jna:5.18.1@aar")
}
