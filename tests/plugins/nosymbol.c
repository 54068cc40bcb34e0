/* A shared object without a vigil_plugin symbol: "not a vigil plugin". */
int nosymbol_answer(void);

__attribute__((visibility("default"))) int nosymbol_answer(void)
{
	return 42;
}
