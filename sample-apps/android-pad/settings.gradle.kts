// The loan officer's tablet app. The SDK comes in as the Gradle project ":inkseal", the
// library module at ../../android/inkseal (its sources: the generated bindings, the façade
// io.inkseal.Inkseal.kt and io.inkseal.android.AndroidInkseal.kt; its build file and the
// per-ABI libinkseal_ffi.so under src/main/jniLibs come with the Android build of the
// bindings). We include the module as a project rather than `includeBuild("../../android")`
// so that the sample needs no settings file or publication coordinates on the library side:
// one `project(":inkseal")` dependency, edited live from the sample.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "inkseal-android-pad"

include(":app")
include(":inkseal")
project(":inkseal").projectDir = file("../../android/inkseal")
