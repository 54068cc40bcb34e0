/* A CUnit main() for one suite: CU_MAIN("suite", tests) where tests is a
 * CU_TestInfo array ending with CU_TEST_INFO_NULL.  Exits 1 on any failure. */
#ifndef VG_TEST_CU_MAIN_H
#define VG_TEST_CU_MAIN_H

#include <CUnit/Basic.h>
#include <stdlib.h>

#define CU_MAIN(suite_name, tests)                                              \
	int main(void)                                                          \
	{                                                                       \
		CU_SuiteInfo suites[] = {                                       \
			{ suite_name, NULL, NULL, NULL, NULL, tests },          \
			CU_SUITE_INFO_NULL,                                     \
		};                                                              \
		unsigned failed;                                                \
		if (CU_initialize_registry() != CUE_SUCCESS)                    \
			return 1;                                               \
		if (CU_register_suites(suites) != CUE_SUCCESS)                  \
			return 1;                                               \
		CU_basic_set_mode(CU_BRM_VERBOSE);                              \
		CU_basic_run_tests();                                           \
		failed = CU_get_number_of_failures() +                          \
			 CU_get_number_of_tests_failed();                       \
		CU_cleanup_registry();                                          \
		return failed ? 1 : 0;                                          \
	}

#endif
